// One trial of the swarm-speedup benchmark: N nodes on the surrogate program, as a swarm on loopback or as N
// lone boxes, until one of them keeps a train.py whose TRUE value reaches the target (or each ran its cap).
import { mutateProposer } from '../../dist/agent/index.js';
import { benchNode, until } from './nodes.mjs';
import { SURROGATE_DIR, trueValue } from './surrogate.mjs';

const RUNS = new Set(['keep', 'discard', 'crash']);

/**
 * opts: n, swarm (bool), seed (proposer seeds seed*100 + i), target (true val_bpb), runSeconds (one surrogate run),
 * maxPerNode (experiments), claimSettleMs, replicas, noise. Resolves to the trial's figures (see `figures`).
 */
export async function trial(opts) {
  const nodes = [];
  try {
    for (let i = 0; i < opts.n; i++) {
      nodes.push(await benchNode({
        name: `n${i}`, trainerDir: SURROGATE_DIR, budget: opts.runSeconds, env: { SWARM_SURROGATE_SECONDS: String(opts.runSeconds) },
        swarm: opts.swarm, bootstrap: i > 0 && opts.swarm ? [nodes[0].address()] : [], claimSettleMs: opts.claimSettleMs,
        replicas: opts.replicas, noise: opts.noise,
      }));
    }
    if (opts.swarm && opts.n > 1) {
      const meshed = await until(() => nodes.every((x) => x.net.peers().some((p) => p.connected)), 30_000);
      if (!meshed) throw new Error('the swarm nodes did not connect within 30 s');
    }
    const stop = new AbortController();
    const t0 = Date.now();
    let reached = null;
    let started = 0;
    const other = { noise: 0, replication: 0 };
    const checks = [];
    const onEvent = (node) => (e) => {
      if (e.type === 'start') started += 1;
      if (e.type === 'run') other[e.kind] += 1;
      if (e.type !== 'finish' || e.record.status !== 'keep' || !e.record.commit || reached) return;
      const at = Date.now() - t0;
      const experiments = started;
      // Run slots per node: every run started (baseline, experiments, noise, replications) over N. On boxes whose
      // runs take their whole budget (300 s on a GPU) wall time is this many budgets; here the CPU is shared.
      const slots = (started + other.noise + other.replication) / opts.n;
      checks.push(node.workspace.source(e.record.commit).then((src) => {
        const tv = trueValue(src);
        if (!reached && tv !== null && tv <= opts.target) {
          reached = { seconds: at / 1000, experiments, slots, node: node.name };
          stop.abort();
        }
      }));
    };
    const loops = nodes.map((node, i) => node.run({
      proposer: mutateProposer({ seed: opts.seed * 100 + i }), maxExperiments: opts.maxPerNode, signal: stop.signal, onEvent: onEvent(node),
    }));
    const ended = await Promise.allSettled(loops);
    await Promise.all(checks);
    const failed = ended.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    // The swarm's records settle (the last results gossiped) before they are counted.
    if (opts.swarm) await new Promise((r) => setTimeout(r, 500));
    return { n: opts.n, swarm: opts.swarm, seed: opts.seed, reached, wallSeconds: (Date.now() - t0) / 1000, noiseRuns: other.noise, replicationRuns: other.replication, ...(await figures(nodes)) };
  } finally {
    for (const node of nodes) await node.close().catch(() => {});
  }
}

/**
 * From every node's records: runs, duplicates (one train.py run more than once across the nodes, baselines apart:
 * each box measures its own), false keeps (kept, but the true value did not improve on its parent),
 * and for each keep the seconds until every other node built on it (a record whose lineage names it).
 */
async function figures(nodes) {
  const all = [];
  for (const node of nodes) for (const r of await node.store.list()) all.push({ node, r });
  // A keep taken from a peer's confirmed measurement (measuredBy) is no run.
  const runs = all.filter(({ r }) => RUNS.has(r.status) && r.origin.kind !== 'baseline' && !r.measuredBy);
  const taken = all.filter(({ r }) => r.measuredBy).length;
  const byHash = new Map();
  for (const { r } of runs) byHash.set(r.hash, (byHash.get(r.hash) ?? 0) + 1);
  const duplicates = [...byHash.values()].reduce((s, c) => s + c - 1, 0);
  if (process.env.BENCH_DEBUG) console.error('duplicated:', [...byHash].filter(([, c]) => c > 1).map(([h, c]) => `${h.slice(0, 8)}×${c}`).join(' '));
  let keeps = 0;
  let falseKeeps = 0;
  for (const { node, r } of runs.filter(({ r }) => r.status === 'keep')) {
    keeps += 1;
    const [child, parent] = await Promise.all([node.workspace.source(r.commit), node.workspace.source(r.parentCommit)]);
    const a = trueValue(parent);
    const b = trueValue(child);
    if (a === null || b === null || b >= a) falseKeeps += 1;
  }
  const spread = [];
  let unspread = 0;
  if (nodes.length > 1 && nodes[0].net) {
    for (const { node, r } of runs.filter(({ r }) => r.status === 'keep')) {
      const others = nodes.filter((x) => x !== node);
      const firsts = others.map((x) => all.find(({ node: m, r: q }) => m === x && (q.lineage ?? []).includes(r.id))?.r);
      if (firsts.some((q) => q === undefined)) { unspread += 1; continue; }
      spread.push(Math.max(...firsts.map((q) => Date.parse(q.startedAt))) / 1000 - Date.parse(r.endedAt) / 1000);
    }
  }
  if (process.env.BENCH_DEBUG) {
    for (const { node, r } of all) console.error(node.name, r.startedAt?.slice(14, 22), r.endedAt?.slice(14, 22), r.seq, r.status, r.origin.kind, r.hash?.slice(0, 8), r.parentHash.slice(0, 8), r.hypothesis, r.measuredBy ? '(measured by peer)' : '', '|', r.reason ?? '', r.metrics?.val_bpb ?? '');
  }
  const skips = all.filter(({ r }) => r.status === 'skip').length;
  const statuses = {};
  for (const { r } of all) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return { runs: runs.length, duplicates, keeps, falseKeeps, taken, skips, statuses, rebaseSeconds: spread, keepsNotOnEveryPeer: unspread };
}
