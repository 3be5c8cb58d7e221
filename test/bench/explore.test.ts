/**
 * Short version of scripts/bench-explore.mjs: one node on the surrogate research program, the mutator
 * with the loop's exploration context (plateau + directions) against the same mutator told nothing.
 * A lone node on the surrogate is deterministic (seeded mutator, noise seeded by the values), so the
 * comparison is exact for these seeds; the full benchmark runs more rounds, longer, and a swarm, and
 * reports time to target (which this short run is too short to judge).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mutateProposer, type Proposer } from '../../src/agent/index.js';
import { regionKey, regionsOf } from '../../src/directions/index.js';
import { node } from '../helpers/node.js';
import { REPO } from '../helpers/paths.js';
// @ts-expect-error: a plain ES module of the benchmarks, without types
import { trueValue } from '../../scripts/lib/surrogate.mjs';

const SURROGATE = join(REPO, 'test', 'fixtures', 'surrogate');
const EXPERIMENTS = 16;

const blind = (inner: Proposer): Proposer => ({ name: inner.name, propose: (ctx) => inner.propose({ ...ctx, exploration: undefined }) });

async function arm(explore: boolean) {
  // join's noise floor (2 seeded runs, keep only wins beyond 2σ): without it seed luck keeps nearly everything.
  const n = await node({ trainerDir: SURROGATE, budget: 1, env: { SWARM_SURROGATE_SECONDS: '0' }, plateau: 1, noise: { runs: 2, every: 50, k: 2 } });
  const proposer = mutateProposer({ seed: 7 });
  await n.run(EXPERIMENTS, explore ? proposer : blind(proposer));
  const records = (await n.store.list()).filter((r) => r.origin.kind !== 'baseline' && ['keep', 'discard', 'crash'].includes(r.status));
  const directions = new Set(records.flatMap((r) => regionsOf(r.diff).map(regionKey)));
  const best = await n.workspace.best();
  return { directions: directions.size, bestTrue: trueValue(best.source) as number, moved: records.map((r) => regionsOf(r.diff).length) };
}

describe('exploration on the surrogate (short)', () => {
  // --plateau 1: every experiment without a keep starts a plateau, so 16 experiments exercise it (the surrogate keeps ~half early on).
  it('on a plateau combines constants and tries at least as many directions; both arms make progress', async () => {
    const withIt = await arm(true);
    const without = await arm(false);
    expect(withIt.directions).toBeGreaterThanOrEqual(without.directions);
    // Combined moves come from the plateau (the blind mutator combines two constants one time in five).
    expect(withIt.moved.filter((m) => m >= 2).length).toBeGreaterThan(without.moved.filter((m) => m >= 2).length);
    const baseline = trueValue(await readFile(join(SURROGATE, 'train.py'), 'utf8')) as number;
    expect(withIt.bestTrue).toBeLessThan(baseline - 0.03);
    expect(without.bestTrue).toBeLessThan(baseline - 0.03);
  }, 240_000);
});
