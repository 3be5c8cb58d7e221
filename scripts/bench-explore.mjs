#!/usr/bin/env node
// Exploration (issue 13): the built-in mutator with plateau detection and the swarm's directions
// (ProposalContext.exploration) against the same mutator told nothing, side by side on the surrogate
// research program (test/fixtures/surrogate, known true val_bpb). Real nodes (store, workspace, Python
// trainer; for the swarm part libp2p on 127.0.0.1 and the swarm link), join's defaults otherwise.
//
//   node scripts/bench-explore.mjs [experiments per node] [nodes in the swarm part] [rounds] [target] [seconds per run] [--swarm-only]
//
// Per arm: experiments and wall seconds until a node's best train.py is truly (noise-free) at or below
// the target (not reached: the whole run, a lower bound), the distinct directions (constants / code
// regions) tried in all and among the first 12 experiments, crowding (runs of different nodes that
// overlapped in time on a common direction, per experiment) and the best true val_bpb at the end.
// Run `npm run build` first. Prints JSON; docs/benchmarks.md "Exploration (issue 13)" has the figures.
import { mutateProposer } from '../dist/agent/index.js';
import { regionKey, regionsOf } from '../dist/directions/index.js';
import { benchNode } from './lib/nodes.mjs';
import { SURROGATE_DIR, trueValue } from './lib/surrogate.mjs';

const experiments = Number(process.argv[2] ?? 60);
const swarmSize = Number(process.argv[3] ?? 3);
const rounds = Number(process.argv[4] ?? 2);
const target = Number(process.argv[5] ?? 1.0);
/**
 * Seconds a surrogate run sleeps (default 0: the bench measures proposals, not sleep). Claims say what
 * peers run now; when runs are much longer than drafting a proposal (as with real 300 s runs), they are
 * fresh when the next proposal is drafted: give a few seconds to measure spread under that condition.
 */
const runSeconds = String(Number(process.argv[6]) || 0);
const ENV = { SWARM_SURROGATE_SECONDS: runSeconds };
/** Directions among the first this-many experiments (swarm-wide): how widely the nodes start out. */
const FIRST = 12;

/** The same mutator with ProposalContext.exploration taken away: how proposers behaved before issue 13. */
function blind(inner) {
  return { name: inner.name, propose: (ctx) => inner.propose({ ...ctx, exploration: undefined }) };
}

/** One arm of one round: `size` nodes (a lone box when 1), `experiments` each, all at once. */
async function arm({ size, explore, round }) {
  const nodes = [];
  try {
    for (let i = 0; i < size; i++) {
      const bootstrap = nodes.map((n) => n.address()).filter(Boolean);
      nodes.push(await benchNode({ name: `explore-${i}`, trainerDir: SURROGATE_DIR, budget: 1, env: ENV, swarm: size > 1, bootstrap, claimSettleMs: 200 }));
    }
    if (size > 1) await new Promise((r) => setTimeout(r, 1500)); // let the mesh form
    const t0 = Date.now();
    await Promise.all(nodes.map((n, i) => {
      const proposer = mutateProposer({ seed: 1000 * round + i });
      return n.run({ proposer: explore ? proposer : blind(proposer), maxExperiments: experiments });
    }));
    const wall = (Date.now() - t0) / 1000;
    return { ...(await measure(nodes, t0)), wallSeconds: Number(wall.toFixed(1)) };
  } finally {
    for (const n of nodes) await n.close();
  }
}

/** From the nodes' records: when the first best reached the target, the directions tried, the best at the end. */
async function measure(nodes, t0) {
  const judged = [];
  const keeps = [];
  for (const [i, n] of nodes.entries()) {
    for (const r of await n.store.list()) {
      if (!['keep', 'discard', 'crash'].includes(r.status) || r.origin.kind === 'baseline' || r.imported) continue;
      judged.push({ ...r, node: i, regions: regionsOf(r.diff).map(regionKey) });
      if (r.status === 'keep' && r.commit) keeps.push({ at: Date.parse(r.endedAt), truth: trueValue(await n.workspace.source(r.commit)) });
    }
  }
  const reached = keeps.filter((k) => k.truth !== null && k.truth <= target).sort((a, b) => a.at - b.at)[0];
  const directions = new Set(judged.flatMap((r) => r.regions));
  const first = new Set([...judged].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).slice(0, FIRST).flatMap((r) => r.regions));
  const truths = keeps.map((k) => k.truth).filter((t) => t !== null);
  return {
    experiments: judged.length,
    firstDirections: first.size,
    crowding: crowding(judged),
    toTarget: reached ? { experiments: judged.filter((r) => Date.parse(r.endedAt) <= reached.at).length, seconds: Number(((reached.at - t0) / 1000).toFixed(1)) } : null,
    directions: directions.size,
    bestTrue: truths.length ? Number(Math.min(...truths).toFixed(6)) : null,
  };
}

/** Runs of different nodes that overlapped in time and touched a common direction, per experiment: nodes crowding into one idea. */
function crowding(judged) {
  let pairs = 0;
  for (let i = 0; i < judged.length; i++) {
    for (let j = i + 1; j < judged.length; j++) {
      const a = judged[i];
      const b = judged[j];
      if (a.node === b.node || a.startedAt >= b.endedAt || b.startedAt >= a.endedAt) continue;
      if (a.regions.some((k) => b.regions.includes(k))) pairs += 1;
    }
  }
  return Number((pairs / Math.max(1, judged.length)).toFixed(3));
}

const mean = (xs) => (xs.length ? Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2)) : null);

/** Rounds of both arms, interleaved so machine load falls on both alike. */
async function compare(size) {
  const runs = { with: [], without: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const explore of [true, false]) {
      const r = await arm({ size, explore, round });
      runs[explore ? 'with' : 'without'].push(r);
      console.error(`${size} node(s), round ${round}, ${explore ? 'with' : 'without'} exploration: ${JSON.stringify(r)}`);
    }
  }
  const summary = (rs) => ({
    reached: `${rs.filter((r) => r.toTarget).length}/${rs.length}`,
    experimentsToTarget: mean(rs.map((r) => r.toTarget?.experiments ?? r.experiments)),
    secondsToTarget: mean(rs.map((r) => r.toTarget?.seconds ?? r.wallSeconds)),
    directions: mean(rs.map((r) => r.directions)),
    firstDirections: mean(rs.map((r) => r.firstDirections)),
    crowding: mean(rs.map((r) => r.crowding)),
    bestTrue: mean(rs.map((r) => r.bestTrue)),
    runs: rs,
  });
  return { nodes: size, with: summary(runs.with), without: summary(runs.without) };
}

const baseline = trueValue((await import('node:fs')).readFileSync(`${SURROGATE_DIR}/train.py`, 'utf8'));
const out = { target, baselineTrue: Number(baseline.toFixed(6)), experimentsPerNode: experiments, rounds, runSeconds: Number(runSeconds), parts: [] };
if (!process.argv.includes('--swarm-only')) out.parts.push(await compare(1));
if (swarmSize > 1) out.parts.push(await compare(swarmSize));
console.log(JSON.stringify(out, null, 2));
