/**
 * `swarm join --trainer DIR`: a train.py written for the reference runs under our harness and is
 * measured by it; a foreign harness (its own prepare.py, no evaluate.py, no `hardware` subcommand)
 * runs with its data shown read-only, and its results are self-reported; bad folders are refused clearly.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { describeProgram } from '../../src/program/index.js';
import { cli } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';

const FOREIGN = join(REPO, 'test', 'fixtures', 'foreign-harness');
const REFERENCE_STYLE = join(REPO, 'test', 'fixtures', 'reference-style');

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tmp(name: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `swarm-trainer-${name}-`));
  dirs.push(d);
  return d;
}

// A fixed mutator seed: which changes are drawn decides the statuses below.
const swarm = cli({ SWARM_NOISE_RUNS: '0', SWARM_SEED: '1', SWARM_STUB_SLEEP: '0' });

async function records(state: string): Promise<ExperimentRecord[]> {
  const { stdout } = await swarm(['log', '--json', '--state', state]);
  return JSON.parse(stdout) as ExperimentRecord[];
}

/** A HOME whose ~/.cache/autoresearch holds the foreign fixture's data, as the reference's prepare.py leaves it. */
async function homeWithData(): Promise<string> {
  const home = await tmp('home');
  await mkdir(join(home, '.cache', 'autoresearch', 'data'), { recursive: true });
  await writeFile(join(home, '.cache', 'autoresearch', 'data', 'shard_00000.txt'), 'some text to train on\n');
  return home;
}

describe('swarm join --trainer with a foreign harness', () => {
  it('starts without a hardware subcommand, runs on its read-only data, and shares self-reported results', async () => {
    const state = await tmp('state');
    const home = await homeWithData();
    const r = await swarm(['join', '--trainer', FOREIGN, '--state', state, '--max-experiments', '3'], { HOME: home });
    expect(r.exitCode, r.all).toBe(0);
    // It trains for its own time budget: on a CPU too the program is in time mode (the reference's 300 s), not tokens.
    expect(r.all).toMatch(/program [0-9a-f]{16} \(sotu, 300 s\)/);
    expect(r.all).toContain(`a foreign harness (${join(FOREIGN, 'prepare.py')}): its runs' printed val_bpb counts, results are self-reported`);
    const recs = await records(state);
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({ seq: 1, status: 'keep', selfReported: true });
    // the fixture's own formula at its constants, as its train.py printed it
    expect(recs[0]!.metrics!.val_bpb).toBeCloseTo(1.19, 6);
    for (const rec of recs) expect(rec.selfReported).toBe(true);
    // A stopped node re-runs one of them under the same trainer folder (the same program).
    const verified = await swarm(['verify', '1', '--trainer', FOREIGN, '--state', state], { HOME: home });
    expect(verified.exitCode, verified.all).toBe(0);
    expect(verified.stdout).toMatch(/verdict: +confirmed/);
    const shown = (await swarm(['show', '1', '--state', state])).stdout;
    expect(shown).toContain('(val_bpb self-reported: printed by train.py under a foreign harness, not measured by the node)');
    expect(shown).not.toContain('measured by the harness');

    const board = await swarm(['leaderboard', '--state', state]);
    expect(board.stdout).toMatch(/self-reported/);
    const json = JSON.parse((await swarm(['leaderboard', '--json', '--state', state])).stdout) as { entries: { selfReported: boolean }[] }[];
    expect(json[0]!.entries.every((e) => e.selfReported)).toBe(true);
  });

  it("refuses to start when its prepare.py cannot find its data offline, and says how to fix it", async () => {
    const state = await tmp('state');
    const home = await tmp('empty-home');
    const r = await swarm(['join', '--trainer', FOREIGN, '--state', state, '--max-experiments', '1', '--budget', '1'], { HOME: home });
    expect(r.exitCode).toBe(1);
    expect(r.all).toContain("the foreign harness's prepare.py cannot give its data offline: Failed to download shard_00000");
    expect(r.all).toContain(`hint: run \`python ${join(FOREIGN, 'prepare.py')}\` once with network`);
  });

  it("a run cannot write into the foreign data it reads, and the hub kernel's import finds our offline stand-in", async () => {
    const trainer = await tmp('writer');
    await chmod(trainer, 0o755); // runs are user nobody: the folder must be readable to them, as a checkout is
    const home = await homeWithData();
    await writeFile(join(trainer, 'prepare.py'), [
      'import os', 'DATA = os.path.join(os.path.expanduser("~"), ".cache", "autoresearch", "data", "shard_00000.txt")',
      'if __name__ == "__main__":', '    assert os.path.exists(DATA), DATA', '',
    ].join('\n'));
    await writeFile(join(trainer, 'train.py'), [
      'import kernels', 'from prepare import DATA',
      `assert kernels.__file__ == ${JSON.stringify(join(REPO, 'trainer', 'kernels.py'))}, kernels.__file__`,
      'assert hasattr(kernels.get_kernel("kernels-community/flash-attn3"), "flash_attn_interface")', 'try:', '    open(DATA, "a").write("planted")', '    print("FAIL: wrote into the data")',
      'except OSError:', '    print("---")',
      '    for k, v in [("val_bpb", 1.5), ("training_seconds", 0.1), ("total_seconds", 0.2), ("peak_vram_mb", 0.0), ("mfu_percent", 0.0),',
      '                 ("total_tokens_M", 0.1), ("num_steps", 1), ("num_params_M", 0.1), ("depth", 4)]:',
      '        print(f"{k}: {v}")', '',
    ].join('\n'));
    const state = await tmp('state');
    const r = await swarm(['join', '--trainer', trainer, '--state', state, '--max-experiments', '1', '--budget', '1'], { HOME: home });
    expect(r.exitCode, r.all).toBe(0);
    const [baseline] = await records(state);
    expect(baseline, r.all).toMatchObject({ status: 'keep', metrics: { val_bpb: 1.5 }, selfReported: true });
    expect(await readFile(join(home, '.cache', 'autoresearch', 'data', 'shard_00000.txt'), 'utf8')).toBe('some text to train on\n');
  });
});

describe('swarm join --trainer with a train.py for the reference interface', () => {
  it('runs it under our harness, which measures the result', async () => {
    const state = await tmp('state');
    const r = await swarm(['join', '--trainer', REFERENCE_STYLE, '--state', state, '--max-experiments', '1', '--budget', '5']);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toContain(`trainer: baseline ${join(REFERENCE_STYLE, 'train.py')}; the harness in ${join(REPO, 'trainer')} measures val_bpb`);
    const [baseline] = await records(state);
    expect(baseline, r.all).toMatchObject({ seq: 1, status: 'keep', outcome: 'ok' });
    expect(baseline!.selfReported).toBeUndefined();
    expect(baseline!.metrics!.val_bpb).toBeGreaterThan(0);
    expect(typeof baseline!.printedValBpb).toBe('number');
    // The harness measured it: the run exported its model for evaluate.py.
    expect((await stat(join(dirname(baseline!.logPath!), 'export'))).isDirectory()).toBe(true);
    // The program: our harness files, DIR's train.py as the baseline, DIR's program.md (no --program given).
    const harness = (f: string) => join(REPO, 'trainer', f);
    const program = await describeProgram({
      preparePath: harness('prepare.py'), evaluatePath: harness('evaluate.py'), kernelsPath: harness('kernels.py'), baselinePath: join(REFERENCE_STYLE, 'train.py'),
      programPath: join(REFERENCE_STYLE, 'program.md'), dataset: 'sotu', budget: 5, nodeModules: join(REPO, 'node_modules'),
    });
    expect(r.all).toContain(`program ${program.id} (sotu, 5 s)`);
  }, 900_000);
});

describe('swarm join --trainer with a bad folder', () => {
  const refused = async (dir: string) => {
    const r = await swarm(['join', '--trainer', dir, '--state', await tmp('state'), '--max-experiments', '1']);
    expect(r.exitCode).toBe(1);
    expect(r.all).toContain('hint: ');
    return r.all;
  };

  it('names what is wrong: no folder, no train.py, train.py not a file, evaluate.py without prepare.py', async () => {
    const root = await tmp('bad');
    expect(await refused(join(root, 'nope'))).toContain(`the trainer folder ${join(root, 'nope')} does not exist`);
    await writeFile(join(root, 'file'), '');
    expect(await refused(join(root, 'file'))).toContain(`the trainer folder ${join(root, 'file')} is not a folder`);

    const empty = join(root, 'empty');
    await mkdir(empty);
    expect(await refused(empty)).toContain(`the trainer folder ${empty} has no readable train.py`);

    const dirTrain = join(root, 'dir-train');
    await mkdir(join(dirTrain, 'train.py'), { recursive: true });
    expect(await refused(dirTrain)).toContain(`the trainer folder ${dirTrain} has no readable train.py (not a regular file)`);

    const dangling = join(root, 'dangling');
    await mkdir(dangling);
    await symlink(join(root, 'gone.py'), join(dangling, 'train.py'));
    expect(await refused(dangling)).toContain('has no readable train.py');

    const halfHarness = join(root, 'half');
    await mkdir(halfHarness);
    await writeFile(join(halfHarness, 'train.py'), 'print(1)\n');
    await writeFile(join(halfHarness, 'evaluate.py'), 'print(1)\n');
    expect(await refused(halfHarness)).toContain('has evaluate.py but no prepare.py');

    const badPrepare = join(root, 'bad-prepare');
    await mkdir(join(badPrepare, 'prepare.py'), { recursive: true });
    await writeFile(join(badPrepare, 'train.py'), 'print(1)\n');
    expect(await refused(badPrepare)).toContain('has a prepare.py that cannot be read');
  });

  it('refuses a token budget for a foreign harness, which trains for its own time', async () => {
    const r = await swarm(['join', '--trainer', FOREIGN, '--state', await tmp('state'), '--budget-tokens', '1000']);
    expect(r.exitCode).toBe(1);
    expect(r.all).toContain(`the foreign harness in ${FOREIGN} trains for its own time budget: it has no tokens mode`);
  });
});
