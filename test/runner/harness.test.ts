/**
 * The val_bpb of record comes from the harness (trainer/evaluate.py), never from the code under test.
 * Each test runs the REAL trainer (tokens budget of 3 steps, CPU) with a train.py that cheats, and
 * asserts that the cheat is measured at its honest value or refused.
 */
import { existsSync } from 'node:fs';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonTrainer, type RunResult } from '../../src/runner/index.js';
import { REPO, testPython, tmpDir } from './helpers.js';

const TRAINER_DIR = path.join(REPO, 'trainer');
let root: string;
let baseline: string;
let honest: RunResult;

const trainer = () => pythonTrainer({
  python: testPython(), trainerDir: TRAINER_DIR, cacheDir: path.join(root, 'cache'), dataset: 'sotu',
  budgetSeconds: 300, budgetMode: 'tokens', budgetTokens: 3 * 2048, timeoutSeconds: 540,
  env: process.env.SWARM_DEVICE ? {} : { SWARM_DEVICE: 'cpu' },
});
const run = (name: string, source: string) => trainer().run({ source, runDir: path.join(root, name), seed: 42 });

beforeAll(async () => {
  root = await tmpDir('harness');
  baseline = await readFile(path.join(TRAINER_DIR, 'train.py'), 'utf8');
  honest = await run('honest', baseline);
}, 600_000);
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

function edited(from: string, to: string): string {
  expect(baseline).toContain(from);
  return baseline.replace(from, to);
}

describe('the harness measures val_bpb', () => {
  it('an honest run: measured on val, printed on dev, both finite and close; the export is data only', async () => {
    expect(honest.outcome).toBe('ok');
    expect(honest.printedValBpb).not.toBeNull();
    expect(Math.abs(honest.metrics!.val_bpb - honest.printedValBpb!)).toBeLessThan(0.1);
    expect(honest.metrics!.val_bpb).not.toBe(honest.printedValBpb); // two different splits
    expect(honest.harnessSeconds).toBeGreaterThan(0);
    const index = JSON.parse(await readFile(path.join(root, 'honest', 'export', 'weights.json'), 'utf8')) as { tensors: unknown[] };
    expect(index.tensors.length).toBeGreaterThan(10);
  }, 600_000);

  it('a train.py that prints a fake val_bpb is recorded at its measured value', async () => {
    const r = await run('fake-print', edited('print(f"val_bpb:          {val_bpb:.6f}")', 'print("val_bpb:          0.300000")'));
    expect(r.outcome).toBe('ok');
    expect(r.printedValBpb).toBe(0.3);
    expect(Math.abs(r.metrics!.val_bpb - honest.metrics!.val_bpb)).toBeLessThan(1e-6);
  }, 600_000);

  it('a train.py that never lets the harness see its model (no evaluate_bpb call) is a crash', async () => {
    const r = await run('no-export', edited('    val_bpb = evaluate_bpb(train_model, tokenizer, EVAL_BATCH_SIZE, device)', '    val_bpb = 0.3'));
    expect(r.outcome).toBe('crash');
    expect(r.metrics).toBeNull();
    expect(r.reason).toMatch(/^the harness refused the model: no exported model .*evaluate_bpb/);
  }, 600_000);

  it('a model that looks at later tokens is refused as not causal', async () => {
    const r = await run('non-causal', edited('is_causal=True', 'is_causal=False'));
    expect(r.outcome).toBe('crash');
    expect(r.reason).toMatch(/^the harness refused the model: not causal: log-probabilities moved by [\d.e+-]+ when only later tokens, or other rows of the batch, changed/);
  }, 600_000);

  it('a doctored export is refused before anything of it runs: foreign, file-reading, in-place and dunder operators, sympy text', async () => {
    const dir = path.join(root, 'honest', 'export');
    const graph = await readFile(path.join(dir, 'graph.json'), 'utf8');
    const marker = path.join(root, 'PWNED');
    const doctored: [string, (g: string) => string, RegExp][] = [
      ['custom', (g) => g.replace('"torch.ops.aten.tanh.default"', '"torch.ops.evil.run.default"'), /operator 'torch\.ops\.evil\.run\.default' is not one of the pure ATen operators/],
      ['from-file', (g) => g.replace('"torch.ops.aten.tanh.default"', '"torch.ops.aten.from_file.default"'), /operator 'torch\.ops\.aten\.from_file\.default' is not one/],
      ['in-place', (g) => g.replace('"torch.ops.aten.add.Tensor"', '"torch.ops.aten.add_.Tensor"'), /operator 'torch\.ops\.aten\.add_\.Tensor' is not one/],
      ['dunder', (g) => g.replace('"torch.ops.aten.tanh.default"', '"torch.ops.aten.tanh.__init__"'), /operator 'torch\.ops\.aten\.tanh\.__init__' is unknown or writes its inputs/],
      ['sympy', (g) => g.replace(/"sizes": \[\{"as_int": 16\}/, `"sizes": [{"as_expr": {"expr_str": "__import__('pathlib').Path(${JSON.stringify(marker).replace(/"/g, "'")}).write_text('x') or 16", "hint": {"as_int": 16}}}`),
        /field 'as_expr' is not allowed/],
    ];
    for (const [name, doctor, refusal] of doctored) {
      const out = path.join(root, `doctored-${name}`);
      await cp(dir, out, { recursive: true });
      const text = doctor(graph);
      expect(text, name).not.toBe(graph);
      await writeFile(path.join(out, 'graph.json'), text);
      const r = await evaluate(out);
      expect(r.exitCode, name).toBe(3);
      expect(r.stdout, name).toMatch(refusal);
    }
    expect(existsSync(marker)).toBe(false);
  }, 600_000);

  it('a model that peeks at the next token everywhere but at a few fixed positions, or reads another row, is refused', async () => {
    const { execa } = await import('execa');
    for (const kind of ['sparse', 'rows']) {
      const out = path.join(root, `leak-${kind}`);
      await execa(testPython(), [path.join(REPO, 'test', 'fixtures', 'harness', 'leaks.py'), out, kind], { env: harnessEnv() });
      const r = await evaluate(out);
      expect(r.exitCode, kind).toBe(3);
      expect(r.stdout, kind).toMatch(/^refused: not causal: log-probabilities moved by [\d.e+-]+ when only later tokens, or other rows of the batch, changed/m);
    }
  }, 600_000);
});

function harnessEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', PYTHONPATH: TRAINER_DIR, SWARM_CACHE_DIR: path.join(root, 'cache'), SWARM_DEVICE: 'cpu', SWARM_TOKENIZER: 'auto' };
}

async function evaluate(exportDir: string) {
  const { execa } = await import('execa');
  return execa(testPython(), [path.join(TRAINER_DIR, 'evaluate.py'), exportDir], { reject: false, env: harnessEnv() });
}
