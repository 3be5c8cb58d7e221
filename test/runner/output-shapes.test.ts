/**
 * The shapes of output the reference's train.py prints, read by the runner: `\r` progress lines
 * without newlines, a bare `FAIL`, a stray `---` after the summary block, `total_tokens_M` with one
 * decimal. Unit tests of the parsers, then real Python processes printing them through the runner.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BARE_FAIL_REASON, LineSplitter, parseFailLine, parseProgress, pythonTrainer, screenLines, summaryFields, tokenShortfall,
  type Progress, type PythonTrainerInit,
} from '../../src/runner/index.js';
import { FIXTURES, testPython, tmpDir } from './helpers.js';

const SUMMARY = [
  '---', 'val_bpb:          0.997900', 'training_seconds: 300.1', 'total_seconds:    325.9', 'peak_vram_mb:     45060.2',
  'mfu_percent:      39.80', 'total_tokens_M:   499.6', 'num_steps:        953', 'num_params_M:     50.3', 'depth:            8',
];

describe('LineSplitter', () => {
  const split = (chunks: string[]) => {
    const out: [string, boolean][] = [];
    const s = new LineSplitter((line, rewritten) => out.push([line, rewritten]));
    for (const c of chunks) s.push(c);
    s.end();
    return out;
  };

  it('ends a line at a lone \\r (rewritten) and at \\n or \\r\\n, even when \\r\\n is split between chunks', () => {
    expect(split(['a\rb\rc\n'])).toEqual([['a', true], ['b', true], ['c', false]]);
    expect(split(['x\r', '\ny\r', 'z'])).toEqual([['x', false], ['y', true], ['z', false]]);
    expect(split(['p\r'])).toEqual([['p', true]]);
  });
});

describe('screenLines', () => {
  it('shows a progress line rewritten with \\r as its latest version, as a terminal would', () => {
    const log = 'Model compiled\n\rstep 00000 (0.0%) | loss: 9.0\rstep 00001 (0.4%) | loss: 8.5   \rstep 00002 (0.8%) | loss: 8.1   \nTraining completed\n';
    expect(screenLines(log)).toEqual(['Model compiled', 'step 00002 (0.8%) | loss: 8.1   ', 'Training completed']);
    expect(screenLines('a\nb\n')).toEqual(['a', 'b']);
    expect(screenLines('a\n\rstep 1\rstep 2')).toEqual(['a', 'step 2']);
  });
});

describe('parseProgress', () => {
  it("reads the reference's progress line: percent done, loss, and elapsed time from the remaining seconds", () => {
    const line = 'step 00042 (12.5%) | loss: 3.456789 | lrm: 1.00 | dt: 312ms | tok/sec: 1,234,567 | mfu: 39.8% | epoch: 1 | remaining: 250s    ';
    expect(parseProgress(line, 300)).toEqual({ step: 42, loss: 3.456789, elapsedSeconds: 50, fraction: 0.125 });
    expect(parseProgress(line)).toEqual({ step: 42, loss: 3.456789, elapsedSeconds: 0, fraction: 0.125 });
    expect(parseProgress('step 00001 | loss 5.0 | lrm 1.000 | dt 10ms | tok/s 1 | elapsed 1.5s | done 3%')).toMatchObject({ step: 1, elapsedSeconds: 1.5, fraction: 0.03 });
    expect(parseProgress('step 5 was fine')).toBeNull();
  });
});

describe('parseFailLine', () => {
  it("reads ours (`FAIL: why`), the reference's bare FAIL, and a FAIL appended to a \\r progress line", () => {
    expect(parseFailLine('FAIL: loss diverged (nan) at step 3')).toBe('loss diverged (nan) at step 3');
    expect(parseFailLine('FAIL')).toBe(BARE_FAIL_REASON);
    expect(parseFailLine('step 00010 (3.4%) | loss: 123.0 | remaining: 250s    FAIL')).toBe(BARE_FAIL_REASON);
    expect(parseFailLine('FAILED to open a file')).toBeNull();
    expect(parseFailLine('no FAILURE here')).toBeNull();
  });
});

describe('summaryFields', () => {
  it('keeps a complete block when a stray `---` follows it, and takes the later of two complete blocks', () => {
    expect(summaryFields([...SUMMARY, '---'])?.get('val_bpb')).toBe('0.997900');
    expect(summaryFields([...SUMMARY, '---', 'Checkpoint saved'])?.get('total_tokens_M')).toBe('499.6');
    const later = SUMMARY.map((l) => l.replace('0.997900', '0.990000'));
    expect(summaryFields([...SUMMARY, ...later])?.get('val_bpb')).toBe('0.990000');
    // an incomplete last block, with no complete one before it, is still what is reported
    expect(summaryFields(['---', 'val_bpb: 1.0'])?.get('val_bpb')).toBe('1.0');
    expect(summaryFields(['no block'])).toBeNull();
  });
});

describe('tokenShortfall', () => {
  it("checks the budget exactly against the harness's drawn-token count, whatever total_tokens_M's rounding", () => {
    const summary = SUMMARY.map((l) => l.replace('499.6', '0.2'));
    // 0.2 M printed with one decimal would pass a 150k budget at 100k tokens; the drawn count does not
    expect(tokenShortfall(summary, 150_000, 100_000)).toMatch(/^trained 100000 tokens, budget is 150000/);
    expect(tokenShortfall(summary, 150_000, 151_552)).toBeNull();
    expect(tokenShortfall(summary, 150_000)).toBeNull();
    expect(tokenShortfall(summary, 300_000)).toMatch(/^trained 0\.2 M tokens/);
  });
});

describe('a run that prints like the reference', () => {
  let root: string;
  beforeAll(async () => { root = await tmpDir('shapes'); });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  const init = (over: Partial<PythonTrainerInit> = {}): PythonTrainerInit => ({
    python: testPython(), trainerDir: FIXTURES, cacheDir: path.join(root, 'cache'), dataset: 'sotu',
    budgetSeconds: 300, timeoutSeconds: 60, killGraceSeconds: 0.5, metric: 'printed', ...over,
  });
  const progressLoop = (steps: number, tail: string) => `
import sys, time
print("Model compiled in 0.1s")
for step in range(${steps}):
    print(f"\\rstep {step:05d} ({100 * step / ${steps}:.1f}%) | loss: {9 - step * 0.5:.6f} | lrm: 1.00 | dt: 5ms | tok/sec: 1,000 | epoch: 1 | remaining: {300 - 30 * step:.0f}s    ", end="", flush=True)
    time.sleep(0.05)
${tail}
`;

  it('follows its \\r progress lines as they come, shows only the latest in the tail, and keeps the summary past a stray ---', async () => {
    const summary = SUMMARY.map((l) => `print(${JSON.stringify(l)})`).join('\n');
    const source = progressLoop(6, `print()\nprint("Training completed")\n${summary}\nprint("---")\n`);
    const seen: Progress[] = [];
    const r = await pythonTrainer(init()).run({ source, runDir: path.join(root, 'ok'), onProgress: (p) => seen.push(p) });
    expect(r.outcome).toBe('ok');
    expect(r.metrics).toMatchObject({ val_bpb: 0.9979, total_tokens_M: 499.6, num_steps: 953 });
    expect(seen.map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen.at(-1)).toMatchObject({ elapsedSeconds: 150, fraction: 0.833 });
    const progress = r.logTail.filter((l) => l.startsWith('step '));
    expect(progress).toHaveLength(1);
    expect(progress[0]).toMatch(/^step 00005 /);
  });

  it('turns a bare FAIL at the end of a progress line into the crash reason', async () => {
    const source = progressLoop(3, `print("FAIL")\nraise SystemExit(1)\n`);
    const r = await pythonTrainer(init()).run({ source, runDir: path.join(root, 'fail') });
    expect(r.outcome).toBe('crash');
    expect(r.reason).toBe(BARE_FAIL_REASON);
  });
});
