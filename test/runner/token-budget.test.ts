/**
 * The tokens budget mode in the runner: SWARM_BUDGET_TOKENS in the trainer's environment, and an ok run
 * that trained fewer tokens than its budget turned into a crash (its val_bpb does not compare).
 * The last two tests run the REAL trainer (trainer/train.py on sotu, CPU unless SWARM_DEVICE says otherwise).
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainerError } from '../../src/core/index.js';
import { pythonTrainer, tokenShortfall, type PythonTrainerInit } from '../../src/runner/index.js';
import { FIXTURES, REPO, testPython, tmpDir } from './helpers.js';

let root: string;
let n = 0;
beforeAll(async () => { root = await tmpDir('tokens'); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

/** A fake train.py: reports the budget env it got, and "trains" TRAINED tokens (default: the budget). */
const ECHO_TRAIN_PY = `
import os
budget = os.environ.get("SWARM_BUDGET_TOKENS")
trained = int(os.environ.get("TRAINED") or budget or 0)
print(f"env tokens={budget if budget is not None else '-'} seconds={os.environ.get('SWARM_BUDGET_SECONDS')}")
print("---")
for k, v in (("val_bpb", "1.5"), ("training_seconds", "1.0"), ("total_seconds", "2.0"), ("peak_vram_mb", "0.0"),
             ("mfu_percent", "0.00"), ("total_tokens_M", f"{trained / 1e6:.6f}"), ("num_steps", "3"),
             ("num_params_M", "1.0"), ("depth", "2")):
    print(f"{k + ':':<18}{v}")
`;

function echoRun(over: Partial<PythonTrainerInit>, trained?: number) {
  const trainer = pythonTrainer({
    python: testPython(), trainerDir: FIXTURES, cacheDir: path.join(root, 'cache'), dataset: 'sotu',
    budgetSeconds: 3, timeoutSeconds: 30, metric: 'printed', ...over,
    env: { ...(over.env ?? {}), ...(trained === undefined ? {} : { TRAINED: String(trained) }) },
  });
  return trainer.run({ source: ECHO_TRAIN_PY, runDir: path.join(root, `echo-${++n}`) });
}

describe('tokenShortfall', () => {
  const summary = (tokensM: string) => ['---', 'val_bpb:          1.5', `total_tokens_M:   ${tokensM}`];

  it('accepts the budget or more, read with the precision it was printed with', () => {
    expect(tokenShortfall(summary('2.000896'), 2_000_000)).toBeNull();
    expect(tokenShortfall(summary('2.000000'), 2_000_000)).toBeNull();
    expect(tokenShortfall(summary('0.006144'), 6_144)).toBeNull();
    // one decimal (the reference's format): 2.0 may be anything from 1.95M up
    expect(tokenShortfall(summary('2.0'), 2_000_000)).toBeNull();
    expect(tokenShortfall(summary('2.0'), 2_040_000)).toBeNull();
    expect(tokenShortfall(summary('2'), 2_400_000)).toBeNull();
  });

  it('names the shortfall when the run clearly trained fewer tokens', () => {
    expect(tokenShortfall(summary('1.999999'), 2_000_000)).toBe(
      'trained 1.999999 M tokens, budget is 2 M: stopped before the token budget, so its val_bpb does not compare');
    expect(tokenShortfall(summary('1.9'), 2_000_000)).toMatch(/^trained 1\.9 M tokens, budget is 2 M/);
    expect(tokenShortfall(summary('2.0'), 2_060_000)).toMatch(/^trained 2\.0 M tokens, budget is 2\.06 M/);
    expect(tokenShortfall(summary('0.004096'), 6_145)).toMatch(/^trained 0\.004096 M tokens, budget is 0\.006145 M/);
    expect(tokenShortfall(['---', 'val_bpb:          1.5'], 1000)).toMatch(/no total_tokens_M/);
    expect(tokenShortfall(summary('nan'), 1000)).toMatch(/no total_tokens_M/);
  });
});

describe('pythonTrainer in tokens mode', () => {
  it('sets SWARM_BUDGET_TOKENS in tokens mode and removes it in time mode, whatever the caller env says', async () => {
    const tokens = await echoRun({ budgetMode: 'tokens', budgetTokens: 5000, env: { SWARM_BUDGET_TOKENS: '7' } });
    expect(tokens.outcome).toBe('ok');
    expect(tokens.logTail).toContain('env tokens=5000 seconds=3');
    expect(tokens.metrics!.total_tokens_M).toBe(0.005);
    for (const over of [{}, { budgetMode: 'time' as const, budgetTokens: 5000 }]) {
      const time = await echoRun({ ...over, env: { SWARM_BUDGET_TOKENS: '7' } });
      expect(time.outcome).toBe('ok');
      expect(time.logTail).toContain('env tokens=- seconds=3');
    }
  });

  it('an ok run below its token budget is a crash with the reason; time mode does not check tokens', async () => {
    const short = await echoRun({ budgetMode: 'tokens', budgetTokens: 5000 }, 4096);
    expect(short.outcome).toBe('crash');
    expect(short.metrics).toBeNull();
    expect(short.exitCode).toBe(0);
    expect(short.reason).toMatch(/^trained 0\.004096 M tokens, budget is 0\.005 M/);
    expect((await echoRun({ budgetMode: 'tokens', budgetTokens: 5000 }, 5001)).outcome).toBe('ok');
    expect((await echoRun({}, 1)).outcome).toBe('ok');
  });

  it('refuses tokens mode without a positive integer token budget', () => {
    const base = { python: testPython(), trainerDir: FIXTURES, cacheDir: root, dataset: 'sotu' as const, budgetSeconds: 3, timeoutSeconds: 30 };
    expect(() => pythonTrainer({ ...base, budgetMode: 'tokens' })).toThrow(TrainerError);
    expect(() => pythonTrainer({ ...base, budgetMode: 'tokens', budgetTokens: 2.5 })).toThrow(/budgetTokens must be a positive integer/);
  });
});

const TRAINER_DIR = path.join(REPO, 'trainer');
const hasTrainer = existsSync(path.join(TRAINER_DIR, 'train.py')) && existsSync(path.join(TRAINER_DIR, 'prepare.py'));
const TOKENS_PER_STEP = 2048; // the baseline's TOTAL_BATCH_SIZE
const BUDGET = 3 * TOKENS_PER_STEP + 1; // needs exactly 4 steps

describe.skipIf(!hasTrainer)('real trainer in tokens mode', () => {
  const realTrainer = () => pythonTrainer({
    python: testPython(), trainerDir: TRAINER_DIR, cacheDir: path.join(root, 'real-cache'), dataset: 'sotu',
    // a tiny time budget: a run that followed time instead of tokens would stop after 2 steps
    budgetSeconds: 0.01, budgetMode: 'tokens', budgetTokens: BUDGET, timeoutSeconds: 540,
    env: process.env.SWARM_DEVICE ? {} : { SWARM_DEVICE: 'cpu' },
  });

  it('trains ceil(budget / tokens per step) steps: ok, total tokens >= budget', async () => {
    const source = await readFile(path.join(TRAINER_DIR, 'train.py'), 'utf8');
    expect(source).toMatch(/^TOTAL_BATCH_SIZE = 2048 /m);
    const r = await realTrainer().run({ source, runDir: path.join(root, 'real-ok'), seed: 42 });
    if (r.outcome !== 'ok') console.error(r.reason, '\n', r.logTail.join('\n'));
    expect(r.outcome).toBe('ok');
    expect(r.metrics!.num_steps).toBe(Math.ceil(BUDGET / TOKENS_PER_STEP));
    // the summary rounds to the reference's one decimal; the harness's own count is exact
    expect(r.metrics!.total_tokens_M).toBe(0);
    expect(r.logTail).toContain(`harness: ${4 * TOKENS_PER_STEP} training tokens drawn`);
    expect(r.logTail.find((l) => l.startsWith('device:'))).toContain(`| budget ${BUDGET.toLocaleString('en-US')} tokens |`);
  }, 600_000);

  it('a train.py edited to stop at half the budget is a crash: trained X M tokens, budget is Y M', async () => {
    const source = await readFile(path.join(TRAINER_DIR, 'train.py'), 'utf8');
    const early = source.replace('if progress >= 1.0:', 'if progress >= 0.5:');
    expect(early).not.toBe(source);
    const r = await realTrainer().run({ source: early, runDir: path.join(root, 'real-early'), seed: 42 });
    expect(r.exitCode).toBe(0);
    expect(r.outcome).toBe('crash');
    expect(r.metrics).toBeNull();
    // stops after 2 steps (4,096 of 6,145 tokens)
    // total_tokens_M reads 0.0 either way; the harness's drawn-token count tells the runs apart
    expect(r.reason).toBe('trained 4096 tokens, budget is 6145: stopped before the token budget, so its val_bpb does not compare');
  }, 600_000);
});
