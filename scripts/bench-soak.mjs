#!/usr/bin/env node
// Overnight (soak) benchmark: 5 swarm nodes, each its own Node process on 127.0.0.1, run the surrogate program
// for DURATION seconds. Reports each node's resident memory after warm-up against its end (growth), whether
// every node holds every record at the end, and duplicate runs (one train.py run twice anywhere).
// Usage: node scripts/bench-soak.mjs DURATION [--nodes 5] [--run-seconds 5] [--sample 10] [--out FILE.json]
// Run `npm run build` first.
import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SURROGATE_DIR } from './lib/surrogate.mjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { nodes: { type: 'string', default: '5' }, 'run-seconds': { type: 'string', default: '5' }, sample: { type: 'string', default: '10' }, out: { type: 'string' } },
});
const duration = Number(positionals[0] ?? 60);
const n = Number(args.nodes);
const runSeconds = Number(args['run-seconds']);
const sampleMs = Number(args.sample) * 1000;
/** Memory before this share of the duration is warm-up (caches, the JIT, LevelDB's first compactions). */
const WARMUP = 0.25;

function start(i, bootstrap) {
  const opts = {
    name: `soak${i}`, trainerDir: SURROGATE_DIR, budget: runSeconds, env: { SWARM_SURROGATE_SECONDS: String(runSeconds) },
    bootstrap, seed: 7000 + i, sampleMs, claimSettleMs: 1000,
  };
  const child = fork(join(import.meta.dirname, 'lib', 'node-process.mjs'), [JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const node = { i, child, samples: [], errors: [], waiters: [] };
  child.on('message', (m) => {
    if (m.type === 'rss') node.samples.push({ t: m.t, rss: m.rss, runs: m.runs });
    else if (m.type === 'error') node.errors.push(m.message);
    else for (const w of node.waiters.splice(0)) w(m);
  });
  return node;
}
const next = (node, type) => new Promise((resolve) => {
  const wait = (m) => (m.type === type ? resolve(m) : node.waiters.push(wait));
  node.waiters.push(wait);
});
const ask = (node, type, answer) => { const p = next(node, answer); node.child.send({ type }); return p; };

const first = start(0, []);
const { address } = await next(first, 'ready');
const nodes = [first, ...Array.from({ length: n - 1 }, (_, k) => start(k + 1, [address]))];
await Promise.all(nodes.slice(1).map((x) => next(x, 'ready')));
const t0 = Date.now();
for (const x of nodes) x.child.send({ type: 'start' });
await new Promise((r) => setTimeout(r, duration * 1000));
await Promise.all(nodes.map((x) => ask(x, 'stop', 'stopped')));
const stoppedAt = Date.now();

// Every node must come to hold every record (gossip, then sync); a minute is ample on loopback.
let dumps = [];
let converged = false;
while (Date.now() - stoppedAt < 60_000) {
  dumps = await Promise.all(nodes.map((x) => ask(x, 'dump', 'dump')));
  const sets = dumps.map((d) => d.records.slice().sort().join());
  if (sets.every((s) => s === sets[0])) { converged = true; break; }
  await new Promise((r) => setTimeout(r, 2000));
}
const union = new Set(dumps.flatMap((d) => d.records));
const runHashes = dumps.flatMap((d) => d.runs);
const duplicates = runHashes.length - new Set(runHashes).size;

const perNode = nodes.map((x, k) => {
  const warm = x.samples.filter((s) => s.t - t0 >= WARMUP * duration * 1000);
  const w0 = warm[0]?.rss ?? NaN;
  const tail = warm.slice(-Math.max(1, Math.ceil(warm.length / 10)));
  const end = tail.reduce((s, v) => s + v.rss, 0) / tail.length;
  return {
    node: k, runs: dumps[k]?.runs.length ?? null, statuses: dumps[k]?.statuses, recordsHeld: dumps[k]?.records.length ?? null,
    rssStartMb: +(x.samples[0]?.rss / 2 ** 20).toFixed(1), rssAfterWarmupMb: +(w0 / 2 ** 20).toFixed(1), rssEndMb: +(end / 2 ** 20).toFixed(1),
    growthAfterWarmup: +(end / w0 - 1).toFixed(4), errors: x.errors,
  };
});
const result = {
  date: new Date().toISOString(), machine: `${cpus().length}× ${cpus()[0]?.model}`, loadavg: loadavg().map((l) => +l.toFixed(2)),
  durationSeconds: duration, actualSeconds: +((stoppedAt - t0) / 1000).toFixed(1), nodes: n, runSeconds,
  runs: runHashes.length, duplicates, takenWithoutRun: dumps.reduce((s, d) => s + (d.taken ?? 0), 0), records: union.size, everyNodeHoldsEveryRecord: converged,
  convergeSeconds: +((Date.now() - stoppedAt) / 1000).toFixed(1),
  maxGrowthAfterWarmup: Math.max(...perNode.map((p) => p.growthAfterWarmup)), perNode,
  samples: nodes.map((x) => x.samples.map((s) => [+((s.t - t0) / 1000).toFixed(1), +(s.rss / 2 ** 20).toFixed(1), s.runs])),
};
for (const x of nodes) x.child.send({ type: 'exit' });
if (args.out) await writeFile(args.out, JSON.stringify(result, null, 1));
const { samples, ...shown } = result;
console.log(JSON.stringify(shown, null, 2));
process.exitCode = converged && duplicates === 0 && nodes.every((x) => x.errors.length === 0) ? 0 : 1;
