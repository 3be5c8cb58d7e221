import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PYTHON, REPO } from '../helpers/paths.js';

const run = promisify(execFile);
const DIR = join(REPO, 'test', 'fixtures', 'surrogate');
// scripts/lib is plain JavaScript (the benchmarks run it without a build); its types are declared here.
const { trueValue } = (await import(join(REPO, 'scripts', 'lib', 'surrogate.mjs'))) as { trueValue: (source: string) => number | null };

/** Runs the surrogate train.py `source` from a run folder, as the runner does (prepare.py on PYTHONPATH); its printed val_bpb. */
async function measure(source: string, env: Record<string, string>): Promise<number> {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const dir = await mkdtemp(join((await import('node:os')).tmpdir(), 'surrogate-'));
  await writeFile(join(dir, 'train.py'), source);
  const { stdout } = await run(PYTHON, [join(dir, 'train.py')], { cwd: dir, env: { PATH: process.env.PATH ?? '', PYTHONPATH: DIR, SWARM_BUDGET_SECONDS: '0', ...env } });
  return Number(/^val_bpb:\s+(\S+)/m.exec(stdout)![1]);
}

describe('the surrogate research program', () => {
  it('prints the value trueValue computes, plus noise drawn from the seed and the constants', async () => {
    const baseline = await readFile(join(DIR, 'train.py'), 'utf8');
    const variants = [baseline, baseline.replace('DEPTH = 4', 'DEPTH = 7'), baseline.replace('MATRIX_LR = 0.02', 'MATRIX_LR = 0.05').replace('BATCH_SIZE = 64', 'BATCH_SIZE = 32')];
    for (const source of variants) {
      expect(await measure(source, { SWARM_SURROGATE_NOISE: '0' })).toBeCloseTo(trueValue(source)!, 6);
    }
    // Interactions: the best MATRIX_LR moves with BATCH_SIZE, so the two effects do not add up.
    const lr = trueValue(variants[2]!.replace('BATCH_SIZE = 32', 'BATCH_SIZE = 64'))! - trueValue(baseline)!;
    const batch = trueValue(baseline.replace('BATCH_SIZE = 64', 'BATCH_SIZE = 32'))! - trueValue(baseline)!;
    expect(Math.abs(trueValue(variants[2]!)! - trueValue(baseline)! - lr - batch)).toBeGreaterThan(0.001);

    const seeds = await Promise.all(Array.from({ length: 12 }, (_, i) => measure(baseline, { SWARM_SEED: String(i + 1) })));
    expect(await measure(baseline, { SWARM_SEED: '3' })).toBe(seeds[2]); // one train.py, one seed: one value
    const mean = seeds.reduce((s, v) => s + v, 0) / seeds.length;
    const sigma = Math.sqrt(seeds.reduce((s, v) => s + (v - mean) ** 2, 0) / (seeds.length - 1));
    expect(sigma).toBeGreaterThan(0.0008);
    expect(sigma).toBeLessThan(0.004);
    expect(Math.abs(mean - trueValue(baseline)!)).toBeLessThan(0.003);
  });

  it('crashes outside its limits, where trueValue says null', async () => {
    const baseline = await readFile(join(DIR, 'train.py'), 'utf8');
    const oom = baseline.replace('MODEL_DIM = 256', 'MODEL_DIM = 4096');
    expect(trueValue(oom)).toBeNull();
    await expect(measure(oom, {})).rejects.toMatchObject({ stderr: expect.stringContaining('out of memory') });
  });
});
