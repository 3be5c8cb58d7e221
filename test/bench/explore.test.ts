/**
 * Short version of scripts/bench-explore.mjs: one node on the surrogate research program, the mutator
 * with the loop's exploration context (plateau + directions) against the same mutator told nothing.
 * A lone node on the surrogate is deterministic (seeded mutator, noise seeded by the values), so the
 * comparison is exact for these seeds; the full benchmark runs more rounds and a swarm.
 */
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
  const n = await node({ trainerDir: SURROGATE, budget: 1, env: { SWARM_SURROGATE_SECONDS: '0' }, plateau: 4 });
  const proposer = mutateProposer({ seed: 7 });
  await n.run(EXPERIMENTS, explore ? proposer : blind(proposer));
  const records = (await n.store.list()).filter((r) => r.origin.kind !== 'baseline' && ['keep', 'discard', 'crash'].includes(r.status));
  const directions = new Set(records.flatMap((r) => regionsOf(r.diff).map(regionKey)));
  const best = await n.workspace.best();
  return { directions: directions.size, bestTrue: trueValue(best.source) as number, moved: records.map((r) => regionsOf(r.diff).length) };
}

describe('exploration on the surrogate (short)', () => {
  it('tries more directions, and moves several constants at once on a plateau, without losing ground', async () => {
    const withIt = await arm(true);
    const without = await arm(false);
    console.log(JSON.stringify({ withIt, without }));
    expect(withIt.directions).toBeGreaterThan(without.directions);
    // Combined moves come from the plateau (the blind mutator combines two constants one time in five).
    expect(withIt.moved.filter((m) => m >= 2).length).toBeGreaterThan(without.moved.filter((m) => m >= 2).length);
    expect(withIt.bestTrue).toBeLessThanOrEqual(without.bestTrue + 0.01);
  }, 180_000);
});
