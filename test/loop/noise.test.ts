import { describe, expect, it } from 'vitest';
import { keepMargin, noiseSeeds, sampleSigma } from '../../src/trust/index.js';
import { node } from '../helpers/node.js';
import { STUB_TRAINER } from '../helpers/paths.js';
import { scripted, setConst } from '../helpers/swarm.js';

// The stub harness adds seed luck: SWARM_STUB_NOISE · (((seed · 7919) mod 1000) / 1000 − 0.5) (test/fixtures/stub-trainer/prepare.py).
const AMPLITUDE = 0.1;
const luck = (seed: number) => AMPLITUDE * (((seed * 7919) % 1000) / 1000 - 0.5);
const env = { SWARM_STUB_NOISE: String(AMPLITUDE) };
const BASELINE_SEED = 42;
const plantSeed = (seed: number) => (source: string) => source.replace(`or ${BASELINE_SEED})`, `or ${seed})`);

describe('the noise floor', () => {
  // What the node will measure: the best's own run (the baseline's seed) and its re-runs with the first measurement's seeds.
  const sigma = sampleSigma([BASELINE_SEED, ...noiseSeeds(1, 3)].map((s) => 1 + luck(s)))!;
  // A seed luckier than the baseline's, but by less than 2σ: a "win" that is only seed luck.
  const lucky = Array.from({ length: 1000 }, (_, i) => i + 1)
    .filter((s) => s !== BASELINE_SEED)
    .map((s) => ({ s, gain: luck(BASELINE_SEED) - luck(s) }))
    .filter(({ gain }) => gain > 0.5 * sigma && gain < 1.5 * sigma)[0]!;

  it('measures σ from seeded runs of the best, and does not keep a planted lucky seed', async () => {
    expect(lucky).toBeDefined();
    const n = await node({
      trainerDir: STUB_TRAINER, budget: 1, env, noise: { runs: 3, every: 50, k: 2 },
      proposer: scripted([
        { hypothesis: 'a luckier seed', edit: plantSeed(lucky.s) },
        { hypothesis: 'a real gain: MATRIX_LR 0.04', edit: setConst('MATRIX_LR', '0.04') },
      ]),
    });
    await n.run(3);

    const [floor, ...more] = await n.store.noiseFloors();
    expect(more).toEqual([]);
    // seed 0 is the best's own recorded run, counted without running it again
    expect(floor!.seeds).toEqual([0, ...noiseSeeds(1, 3)]);
    expect(floor!.values).toHaveLength(4);
    expect(floor!.values[0]).toBe((await n.store.list())[0]!.metrics!.val_bpb);
    expect(floor!.sigma).toBeCloseTo(sigma, 6);
    expect(floor!.afterSeq).toBe(1); // measured right after the baseline, before the first experiment

    const [baseline, seeded, real] = await n.store.list();
    expect(baseline!.status).toBe('keep');
    expect(seeded!.metrics!.val_bpb).toBeLessThan(baseline!.metrics!.val_bpb); // it did "win"…
    expect(seeded!.status).toBe('discard'); // …inside the noise, so it is not kept
    expect(seeded!.insideNoise).toBe(true);
    expect(seeded!.reason).toMatch(/inside the noise/);
    expect(seeded!.margin).toBeCloseTo(keepMargin(0, floor), 9);
    expect(real!.status).toBe('keep');
    expect((await n.workspace.best()).commit).toBe(real!.commit);
  });

  it('without a noise floor the same lucky seed would have been kept', async () => {
    const n = await node({
      trainerDir: STUB_TRAINER, budget: 1, env,
      proposer: scripted([{ hypothesis: 'a luckier seed', edit: plantSeed(lucky.s) }]),
    });
    await n.run(2);
    expect((await n.store.list()).map((r) => r.status)).toEqual(['keep', 'keep']);
    expect(await n.store.noiseFloors()).toEqual([]);
  });

  it('measures again after `every` experiments, with fresh seeds', async () => {
    const n = await node({
      trainerDir: STUB_TRAINER, budget: 1, env, noise: { runs: 2, every: 2, k: 2 },
      // Edits of different lines, so a draft made while the previous one ran still rebases.
      proposer: scripted([['MATRIX_LR', '0.03'], ['EMBEDDING_LR', '0.4'], ['WARMDOWN_RATIO', '0.6']].map(([k, v]) => ({ hypothesis: `${k} ${v}`, edit: setConst(k!, v!) }))),
    });
    await n.run(4);
    const floors = await n.store.noiseFloors();
    expect(floors.map((f) => f.n)).toEqual([1, 2]);
    expect(floors[1]!.seeds).toEqual([0, ...noiseSeeds(2, 2)]);
    expect(floors[1]!.seeds.some((s) => s !== 0 && floors[0]!.seeds.includes(s))).toBe(false);
    expect(floors[1]!.afterSeq).toBe(3);
    expect((await n.store.list()).map((r) => r.status)).not.toContain('invalid');
  });
});
