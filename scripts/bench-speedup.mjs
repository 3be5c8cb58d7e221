#!/usr/bin/env node
// Swarm speedup (P4): N real nodes (LevelDB store, git workspace, loop, swarm link, libp2p on 127.0.0.1; one Node
// process, their runs Python processes) on the surrogate program, as a swarm against N lone boxes, each node with
// the built-in mutator under its own seed. A trial ends when any node keeps a train.py whose TRUE val_bpb
// (scripts/lib/surrogate.mjs) reaches the target. Prints each trial, then per N the medians and ratios as JSON.
// Usage: node scripts/bench-speedup.mjs [--n 1,2,4,8] [--seeds 1,2,3] [--target 0.985] [--run-seconds 3]
//          [--max 80] [--settle 250] [--out FILE.json]        (run `npm run build` first)
//        node scripts/bench-speedup.mjs --from-log FILE [same options]: the figures of the trials a run printed to stderr
//          (one JSON line each), e.g. of a run stopped before its end; rebase times are then per-trial medians.
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { trial } from './lib/speedup.mjs';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '1,2,4,8' }, seeds: { type: 'string', default: '1,2,3' }, target: { type: 'string', default: '0.985' },
    'run-seconds': { type: 'string', default: '3' }, max: { type: 'string', default: '80' }, settle: { type: 'string', default: '250' },
    out: { type: 'string' }, 'from-log': { type: 'string' },
  },
});
const ns = args.n.split(',').map(Number);
const seeds = args.seeds.split(',').map(Number);
const common = { target: Number(args.target), runSeconds: Number(args['run-seconds']), maxPerNode: Number(args.max), claimSettleMs: Number(args.settle) };

const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round = (x, d = 3) => (x === null ? null : +x.toFixed(d));

const trials = [];
if (args['from-log']) {
  for (const line of (await readFile(args['from-log'], 'utf8')).split('\n')) {
    if (line.startsWith('{"n":')) {
      const t = JSON.parse(line);
      trials.push({ ...t, rebaseSeconds: t.rebaseP50 === null ? [] : [t.rebaseP50] });
    }
  }
}
for (const seed of args['from-log'] ? [] : seeds) {
  for (const n of ns) {
    for (const swarm of n === 1 ? [false] : [true, false]) {
      const load = loadavg()[0];
      const t = await trial({ ...common, n, swarm, seed });
      const { rebaseSeconds, ...shown } = t;
      console.error(JSON.stringify({ ...shown, load1: +load.toFixed(2), rebaseP50: round(median(rebaseSeconds), 2) }));
      trials.push({ ...t, load1: load });
    }
  }
}

/** A trial that never reached the target counts as its whole wall time (a lower bound), and is flagged. */
const time = (t) => (t.reached ? t.reached.seconds : t.wallSeconds);
const exps = (t) => (t.reached ? t.reached.experiments : t.runs);
const slots = (t) => (t.reached ? t.reached.slots : (t.runs + t.noiseRuns + t.replicationRuns) / t.n);
const of = (n, swarm) => trials.filter((t) => t.n === n && t.swarm === (n === 1 ? false : swarm));
const ranSeeds = [...new Set(trials.map((t) => t.seed))];
const one = median(of(1, false).map(time));
const oneSlots = median(of(1, false).map(slots));
const summary = ns.map((n) => {
  const sw = of(n, true);
  const lone = of(n, false);
  const tS = median(sw.map(time));
  const tL = median(lone.map(time));
  const runs = sw.reduce((s, t) => s + t.runs, 0);
  const keeps = sw.reduce((s, t) => s + t.keeps, 0);
  const rebase = sw.flatMap((t) => t.rebaseSeconds);
  return {
    n, trials: sw.length,
    swarm: { medianSeconds: round(tS, 1), medianExperiments: median(sw.map(exps)), medianSlots: round(median(sw.map(slots)), 1), reached: sw.filter((t) => t.reached).length },
    lone: { medianSeconds: round(tL, 1), medianExperiments: median(lone.map(exps)), medianSlots: round(median(lone.map(slots)), 1), reached: lone.filter((t) => t.reached).length },
    // In run slots (budgets): the speedup boxes whose runs dominate would see; in wall time: this shared CPU's.
    slotSpeedupVsOneBox: round(oneSlots / median(sw.map(slots)), 2), slotSpeedupPerNode: round(oneSlots / median(sw.map(slots)) / n, 2),
    slotSwarmVsLone: round(median(lone.map(slots)) / median(sw.map(slots)), 2),
    speedupVsOneBox: round(one / tS, 2), speedupPerNode: round(one / tS / n, 2), swarmVsLone: round(tL / tS, 2),
    duplicates: sw.reduce((s, t) => s + t.duplicates, 0), runs, duplicateShare: round(runs ? sw.reduce((s, t) => s + t.duplicates, 0) / runs : 0, 4),
    falseKeeps: sw.reduce((s, t) => s + t.falseKeeps, 0), keeps, falseKeepShare: round(keeps ? sw.reduce((s, t) => s + t.falseKeeps, 0) / keeps : 0, 4),
    loneFalseKeepShare: round(lone.reduce((s, t) => s + t.falseKeeps, 0) / Math.max(1, lone.reduce((s, t) => s + t.keeps, 0)), 4),
    takenWithoutRun: sw.reduce((s, t) => s + (t.taken ?? 0), 0), replicationRuns: sw.reduce((s, t) => s + t.replicationRuns, 0),
    noiseRuns: sw.reduce((s, t) => s + t.noiseRuns, 0),
    rebaseToEveryPeerSeconds: { p50: round(median(rebase), 2), p90: round(quantile(rebase, 0.9), 2), keeps: rebase.length, notOnEveryPeer: sw.reduce((s, t) => s + t.keepsNotOnEveryPeer, 0) },
  };
});
const result = {
  date: new Date().toISOString(), machine: `${cpus().length}× ${cpus()[0]?.model}`, loadavgAtEnd: loadavg().map((l) => +l.toFixed(2)),
  settings: { ...common, seeds: ranSeeds }, oneBoxMedianSeconds: round(one, 1), oneBoxMedianSlots: round(oneSlots, 1), summary,
  trials: trials.map(({ rebaseSeconds, ...t }) => ({ ...t, rebaseSeconds: rebaseSeconds.map((x) => +x.toFixed(2)) })),
};
if (args.out) await writeFile(args.out, JSON.stringify(result, null, 1));
console.log(JSON.stringify({ ...result, trials: undefined }, null, 2));
