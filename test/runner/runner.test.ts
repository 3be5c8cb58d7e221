import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainerError } from '../../src/core/index.js';
import {
  classify, isTrivialError, parseProgress, parseSummary, pythonTrainer, type Progress, type PythonTrainerInit, type RunResult,
} from '../../src/runner/index.js';
import { noFence, type Fence } from '../../src/sandbox/index.js';
import { FIXTURES, fixture, pidAlive, testPython, tmpDir } from './helpers.js';

let root: string;
let n = 0;
beforeAll(async () => { root = await tmpDir('runner'); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

function init(over: Partial<PythonTrainerInit> = {}): PythonTrainerInit {
  return {
    python: testPython(), trainerDir: FIXTURES, cacheDir: path.join(root, 'cache'), dataset: 'sotu',
    budgetSeconds: 3, timeoutSeconds: 30, killGraceSeconds: 0.5, metric: 'printed', ...over,
  };
}

async function runFixture(name: string, over: Partial<PythonTrainerInit> = {}, progress?: Progress[]): Promise<RunResult> {
  const trainer = pythonTrainer(init(over));
  const runDir = path.join(root, `${++n}-${name.replace('.py', '')}`);
  return trainer.run({ source: await fixture(name), runDir, seed: 7, onProgress: progress ? (p) => progress.push(p) : undefined });
}

describe('pythonTrainer.run', () => {
  it('ok: parses the summary exactly, writes train.py and run.log, passes the contract env', async () => {
    const progress: Progress[] = [];
    const r = await runFixture('ok.py', {}, progress);
    expect(r.outcome).toBe('ok');
    expect(r.reason).toBeNull();
    expect(r.exitCode).toBe(0);
    expect(r.metrics).toEqual({
      val_bpb: 1.234567, training_seconds: 3.1, total_seconds: 4.5, peak_vram_mb: 0, mfu_percent: 0,
      total_tokens_M: 0.3, num_steps: 5, num_params_M: 1.2, depth: 2,
    });
    const runDir = path.dirname(r.logPath);
    expect(await readFile(path.join(runDir, 'train.py'), 'utf8')).toBe(await fixture('ok.py'));
    const log = await readFile(r.logPath, 'utf8');
    expect(log).toContain('some warning on stderr'); // stderr interleaved into the same log
    expect(log).toContain('val_bpb:          1.234567');
    const envLine = r.logTail.find((l) => l.startsWith('env '))!;
    expect(envLine).toContain('dataset=sotu');
    expect(envLine).toContain('budget=3');
    expect(envLine).toContain(`cache=${path.join(root, 'cache')}`);
    expect(envLine).toContain('seed=7');
    expect(envLine).toContain(`pythonpath=${FIXTURES}`);
    expect(envLine).toContain(`cwd=${runDir}`);
    expect(Date.parse(r.endedAt)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
    expect(r.wallSeconds).toBeGreaterThan(0);
    // progress callback: every step line, parsed
    expect(progress.map((p) => p.step)).toEqual([0, 1, 2, 3, 4]);
    expect(progress[4]).toEqual({ step: 4, loss: 4.0, elapsedSeconds: 0.5, fraction: null }); // no '| done N%' in this fixture
  });

  it('crash with a traceback: the reason names the exception', async () => {
    const r = await runFixture('crash.py');
    expect(r.outcome).toBe('crash');
    expect(r.exitCode).toBe(1);
    expect(r.metrics).toBeNull();
    expect(r.reason).toBe('exit code 1: ValueError: width 100 is not divisible by the head count');
    expect(r.logTail.some((l) => l.startsWith('Traceback'))).toBe(true);
    expect(isTrivialError(r)).toBe(false);
  });

  it('timeout kills the whole process tree (parent and child ignore SIGTERM)', async () => {
    const t0 = Date.now();
    const r = await runFixture('hang.py', { timeoutSeconds: 2, killGraceSeconds: 0.5 });
    const took = (Date.now() - t0) / 1000;
    expect(r.outcome).toBe('timeout');
    expect(r.reason).toBe('timed out after 2s; process tree killed');
    expect(r.metrics).toBeNull();
    expect(took).toBeGreaterThanOrEqual(2);
    expect(took).toBeLessThan(6);
    const childLine = r.logTail.find((l) => l.startsWith('child_pid '));
    expect(childLine).toBeDefined();
    const childPid = Number(childLine!.split(' ')[1]);
    // killed with SIGKILL; give the kernel a moment to reap (it is reparented to init)
    for (let i = 0; i < 50 && pidAlive(childPid); i++) await new Promise((res) => setTimeout(res, 50));
    expect(pidAlive(childPid)).toBe(false);
  }, 20_000);

  it('abort kills the tree and rejects with an AbortError', async () => {
    const trainer = pythonTrainer(init({ killGraceSeconds: 0.2 }));
    const ac = new AbortController();
    const runDir = path.join(root, `${++n}-abort`);
    let childPid = 0;
    const p = trainer.run({ source: await fixture('hang.py'), runDir, signal: ac.signal, onProgress: () => ac.abort() });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    const log = await readFile(path.join(runDir, 'run.log'), 'utf8');
    childPid = Number(/child_pid (\d+)/.exec(log)![1]);
    for (let i = 0; i < 50 && pidAlive(childPid); i++) await new Promise((res) => setTimeout(res, 50));
    expect(pidAlive(childPid)).toBe(false);
    // an already-aborted signal never starts a process
    await expect(trainer.run({ source: 'print(1)', runDir, signal: AbortSignal.abort() }))
      .rejects.toMatchObject({ name: 'AbortError' });
    // aborted while the run was still being set up (before any process): it stops at once, not after the run
    const early = new AbortController();
    const t0 = Date.now();
    const starting = trainer.run({ source: await fixture('hang.py'), runDir: path.join(root, `${++n}-abort-early`), signal: early.signal });
    early.abort();
    await expect(starting).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(8000);
  }, 30_000);

  it('FAIL line → crash, loss diverged', async () => {
    const progress: Progress[] = [];
    const r = await runFixture('diverge.py', {}, progress);
    expect(r.outcome).toBe('crash');
    expect(r.reason).toBe('loss diverged (nan) at step 7');
    expect(Number.isNaN(progress.at(-1)!.loss)).toBe(true);
    expect(isTrivialError(r)).toBe(false);
  });

  it('exit 0 without a summary → crash, no summary block', async () => {
    const r = await runFixture('nosummary.py');
    expect(r.outcome).toBe('crash');
    expect(r.exitCode).toBe(0);
    expect(r.reason).toBe('no summary block (exit 0)');
  });

  it('summary with val_bpb nan → crash, diverged', async () => {
    const r = await runFixture('nanbpb.py');
    expect(r.outcome).toBe('crash');
    expect(r.reason).toMatch(/diverged/);
    expect(r.reason).toBe('loss diverged (val_bpb nan) after 12 steps');
    expect(r.metrics).toBeNull();
  });

  it('out of memory', async () => {
    const r = await runFixture('oom.py');
    expect(r.outcome).toBe('crash');
    expect(r.reason).toBe('out of memory');
    expect(isTrivialError(r)).toBe(false);
  });

  it('killed by a signal', async () => {
    const r = await runFixture('segv.py');
    expect(r.outcome).toBe('crash');
    expect(r.exitCode).toBeNull();
    expect(r.reason).toBe('killed by signal SIGSEGV');
    const k = await runFixture('sigkill.py');
    expect(k.outcome).toBe('crash');
    expect(k.reason).toMatch(/^out of memory \(killed by SIGKILL/);
    expect(isTrivialError(k)).toBe(false);
  });

  it('SyntaxError, NameError and a missing module are trivial errors', async () => {
    const syntax = await runFixture('syntax.py');
    expect(syntax.outcome).toBe('crash');
    expect(syntax.reason).toMatch(/^exit code 1: SyntaxError: /);
    expect(isTrivialError(syntax)).toBe(true);

    const name = await runFixture('nameerror.py');
    expect(name.reason).toBe("exit code 1: NameError: name 'GPTT' is not defined");
    expect(isTrivialError(name)).toBe(true);

    const mod = await runFixture('missingmod.py');
    expect(mod.reason).toBe("exit code 1: ModuleNotFoundError: No module named 'torch_that_is_not_here'");
    expect(isTrivialError(mod)).toBe(true);
  });

  it('keeps at most 50 lines of tail, still parses the summary after a flood of output', async () => {
    const progress: Progress[] = [];
    const r = await runFixture('chatty.py', {}, progress);
    expect(r.outcome).toBe('ok');
    expect(r.metrics?.val_bpb).toBe(0.9979);
    expect(r.metrics?.num_steps).toBe(953);
    expect(r.logTail.length).toBeLessThanOrEqual(50);
    expect(r.logTail.at(-1)).toBe('depth:            8');
    expect(r.logTail.every((l) => l.length < 5000)).toBe(true);
    expect(progress).toHaveLength(500);
    const log = await readFile(r.logPath, 'utf8');
    expect(log).toContain('x'.repeat(100000)); // the file keeps everything
  });

  it('missing or non-executable python → TrainerError with a setup hint', async () => {
    const a = runFixture('ok.py', { python: path.join(root, 'no-such-venv/bin/python') });
    await expect(a).rejects.toBeInstanceOf(TrainerError);
    await expect(a).rejects.toMatchObject({ hint: expect.stringContaining('scripts/setup.sh') });
    await expect(runFixture('ok.py', { python: 'swarm-no-such-python-3' })).rejects.toBeInstanceOf(TrainerError);
    await expect(runFixture('ok.py', { python: path.join(FIXTURES, 'ok.py') })).rejects.toBeInstanceOf(TrainerError);
  });

  it('a trainer folder without prepare.py → TrainerError, not a crash record', async () => {
    await expect(runFixture('needprepare.py', { trainerDir: root })).rejects.toBeInstanceOf(TrainerError);
  });

  it('fence seam: the command is spawned as the fence rewrote it, and the fence is closed after', async () => {
    const seen: string[][] = [];
    let closed = 0;
    const base = noFence('test');
    const fence: Fence = {
      ...base,
      enter: async (cmd, spec, onLimit) => {
        seen.push(cmd);
        const run = await base.enter(cmd, spec, onLimit);
        return { ...run, cmd: ['env', 'SWARM_WRAPPED=1', ...run.cmd], close: async () => { closed++; } };
      },
    };
    const r = await runFixture('ok.py', { fence });
    expect(r.outcome).toBe('ok');
    expect(seen[0]![1]).toMatch(/train\.py$/);
    expect(closed).toBe(1);
  });

  it('a limit the fence reports stops the run and is its crash reason', async () => {
    const base = noFence('test');
    const fence: Fence = {
      ...base,
      enter: async (cmd, spec, onLimit) => {
        setTimeout(() => onLimit('run folder grew past 1.0 MiB'), 300);
        return base.enter(cmd, spec, onLimit);
      },
    };
    const r = await runFixture('hang.py', { fence, timeoutSeconds: 20 });
    expect(r.outcome).toBe('crash');
    expect(r.reason).toBe('stopped by the fence: run folder grew past 1.0 MiB');
    expect(r.wallSeconds).toBeLessThan(10);
  });
});

describe('a resumed run folder', () => {
  it("replaces links its last attempt left as train.py and run.log, writing nothing through them", async () => {
    const runDir = path.join(root, 'resumed');
    await mkdir(runDir, { recursive: true });
    const victims = ['victim-train', 'victim-log'].map((v) => path.join(root, v));
    for (const v of victims) await writeFile(v, 'untouched');
    await symlink(victims[0]!, path.join(runDir, 'train.py'));
    await symlink(victims[1]!, path.join(runDir, 'run.log'));
    const r = await pythonTrainer(init()).run({ source: await fixture('ok.py'), runDir });
    expect(r.outcome).toBe('ok');
    for (const v of victims) expect(await readFile(v, 'utf8')).toBe('untouched');
    expect(await readFile(path.join(runDir, 'train.py'), 'utf8')).toBe(await fixture('ok.py'));
    expect(await readFile(path.join(runDir, 'run.log'), 'utf8')).toMatch(/val_bpb/);
  });
});

describe('the run log', () => {
  it('a 50 MB stdout flood is stopped at the log cap, with the limit as its reason; at most the cap is on disk', async () => {
    const r = await runFixture('flood.py', { maxLogBytes: 1 << 20 });
    expect(r.outcome).toBe('crash');
    expect(r.reason).toBe('stopped by the fence: log limit: the run printed more than 1.0 MiB');
    const { size } = await stat(r.logPath);
    expect(size).toBeLessThan((1 << 20) + 200);
    expect(await readFile(r.logPath, 'utf8')).toContain(`[swarm] run log cut at ${1 << 20} bytes: the run was stopped`);
  });
});

describe('pythonTrainer.hardware', () => {
  it("runs the node's own probe whatever the trainer folder holds (none of its files), validates and caches", async () => {
    const dir = await tmpDir('hw');
    // No prepare.py at all, and a torch.py that would shadow the real one if the probe looked in the folder.
    await writeFile(path.join(dir, 'torch.py'), 'raise SystemExit("shadowed torch imported")\n');
    const trainer = pythonTrainer(init({ trainerDir: dir }));
    const hw = await trainer.hardware();
    expect(hw).toMatchObject({ device: 'cpu', cuda: null });
    expect(hw.torch).toMatch(/^\d+\.\d+/);
    expect(hw.count).toBeGreaterThan(0);
    expect(hw.name.length).toBeGreaterThan(0);
    expect(await trainer.hardware()).toBe(hw); // cached
    await expect(pythonTrainer(init({ trainerDir: dir, env: { SWARM_DEVICE: 'tpu' } })).hardware()).rejects.toThrow(/hardware probe failed.*SWARM_DEVICE='tpu' must be cuda, mps or cpu/);
    await expect(pythonTrainer(init({ python: path.join(dir, 'no-python') })).hardware()).rejects.toBeInstanceOf(TrainerError);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('parseSummary', () => {
  const block = [
    'step 00001 | loss 1.0 | lrm 1.000 | dt 1ms | tok/s 1 | elapsed 1.0s', '---',
    'val_bpb:          0.997900', 'training_seconds: 300.1', 'total_seconds:    325.9',
    'peak_vram_mb:     45060.2', 'mfu_percent:      39.80', 'total_tokens_M:   499.6',
    'num_steps:        953', 'num_params_M:     50.3', 'depth:            8', 'extra_key: 12',
  ].join('\n');
  it('reads the reference block', () => {
    expect(parseSummary(block)).toEqual({
      val_bpb: 0.9979, training_seconds: 300.1, total_seconds: 325.9, peak_vram_mb: 45060.2, mfu_percent: 39.8,
      total_tokens_M: 499.6, num_steps: 953, num_params_M: 50.3, depth: 8,
    });
  });
  it('null without a block or with a missing key; nan/inf are read', () => {
    expect(parseSummary('step 1\nno summary here')).toBeNull();
    expect(parseSummary(block.replace('depth:            8', ''))).toBeNull();
    expect(parseSummary(block.replace('0.997900', 'nan'))!.val_bpb).toBeNaN();
    expect(parseSummary(block.replace('0.997900', 'inf'))!.val_bpb).toBe(Infinity);
  });
  it('uses the last --- block', () => {
    expect(parseSummary(`---\nval_bpb: 9\n${block}`)!.val_bpb).toBe(0.9979);
  });
});

describe('classify', () => {
  const base = { exitCode: 1, signal: null, timedOut: false, timeoutSeconds: 600, fail: null, oomSeen: false, summary: null, tail: [] as string[] };
  it('a wrapper reporting 128+N', () => {
    expect(classify({ ...base, exitCode: 139 }).reason).toBe('killed by signal SIGSEGV (exit code 139)');
    expect(classify({ ...base, exitCode: 137 }).reason).toMatch(/^out of memory/);
  });
  it('OOM as RuntimeError, and an OOM marker seen earlier without an exception line', () => {
    expect(classify({ ...base, tail: ['Traceback (most recent call last):', '  x', 'RuntimeError: CUDA error: out of memory'] }).reason)
      .toBe('out of memory');
    expect(classify({ ...base, oomSeen: true, tail: ['bye'] }).reason).toBe('out of memory');
    expect(classify({ ...base, tail: ['MemoryError'] }).reason).toBe('out of memory');
  });
  it('a non-zero exit without a traceback names the last line', () => {
    expect(classify({ ...base, exitCode: 2, tail: ['usage: x', ''] }).reason).toBe('exit code 2: usage: x');
    expect(classify({ ...base, exitCode: 3 }).reason).toBe('exit code 3');
  });
  it('a summary with a missing key, and a timeout with a summary', () => {
    const summary = ['---', 'val_bpb: 1.0', 'num_steps: 3'];
    expect(classify({ ...base, exitCode: 0, summary }).reason).toMatch(/^incomplete summary block, missing training_seconds/);
    expect(classify({ ...base, timedOut: true, summary }).outcome).toBe('timeout');
  });
});

describe('progress lines', () => {
  it("reads the share of the budget done when the line says it, capped at 1, and nothing when it does not", () => {
    const line = 'step 00003 | loss 4.500000 | lrm 1.000 | dt 500ms | tok/s 4,096 | elapsed 1.5s';
    expect(parseProgress(`${line} | done 42%`)).toEqual({ step: 3, loss: 4.5, elapsedSeconds: 1.5, fraction: 0.42 });
    expect(parseProgress(`${line} | done 150%`)!.fraction).toBe(1);
    expect(parseProgress(line)!.fraction).toBeNull();
    expect(parseProgress(`${line} | done lots%`)).toBeNull();
  });
});
