#!/usr/bin/env node
// Spread (P3): how fast and how cheaply a result reaches every node of a swarm on loopback.
// Every node is its own process (scripts/lib/spread-node.mjs), as `swarm join` runs: the real
// SwarmNet, its own store and workspace, and the real link. Each figure has its baseline from the
// same run beside it. Run `npm run build` first. Usage:
//   node scripts/bench-spread.mjs [--nodes 50] [--records 10000] [--origins 100] [--publish 200]
//     [--rate 5] [--degree 3] [--seed 1] [--out FILE.json]
// Prints the summary as JSON; --out also writes the samples (for scripts/lib/plot-spread.py).
// SPREAD_PROF=DIR writes a V8 CPU profile of the second node of the big swarm there.
import { execFileSync, fork } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LIMITS } from '../dist/p2p/index.js';
import { openStore } from '../dist/store/index.js';
import { signedRecords } from './lib/spread-records.mjs';

const { values: arg } = parseArgs({
  options: {
    nodes: { type: 'string', default: '50' }, records: { type: 'string', default: '10000' }, origins: { type: 'string', default: '100' },
    publish: { type: 'string', default: '200' }, rate: { type: 'string', default: '5' }, degree: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' }, out: { type: 'string' },
  },
});
const N = Number(arg.nodes);
const RECORDS = Number(arg.records);
const ORIGINS = Number(arg.origins);
const PUBLISH = Number(arg.publish);
const RATE = Number(arg.rate);
const DEGREE = Number(arg.degree);
const NODE_SCRIPT = resolve(import.meta.dirname, 'lib', 'spread-node.mjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const progress = (m) => process.stderr.write(`[spread ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const round = (x, d = 1) => (x === null || !Number.isFinite(x) ? x : Number(x.toFixed(d)));

/** Deterministic choices (which node publishes, whom a node bootstraps to). */
let rngState = Number(arg.seed) >>> 0 || 1;
const rand = () => {
  rngState = (rngState * 1664525 + 1013904223) >>> 0;
  return rngState / 2 ** 32;
};

// ---- child processes -------------------------------------------------------------------------
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts one node process; resolves once it listens. */
async function spawnNode(opts) {
  const proc = fork(NODE_SCRIPT, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: process.env.SPREAD_PROF && opts.prof ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SPREAD_PROF}`] : [] });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  /** Who waits for what: an event name and, for answers that carry one, the request's id. */
  const waiters = [];
  const node = { proc, pid: proc.pid, events: [] };
  const matches = (w, msg) => w.ev === msg.ev && (w.id === undefined || w.id === msg.id);
  proc.on('message', (msg) => {
    if (msg.ev === 'error') throw new Error(`node ${proc.pid}: ${msg.cmd} failed: ${msg.error}`);
    const i = waiters.findIndex((w) => matches(w, msg));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
    else node.events.push(msg);
  });
  /** Waits for an event (or takes it if it came already). */
  node.wait = (ev, ms = 120_000, id = undefined) => {
    const i = node.events.findIndex((m) => matches({ ev, id }, m));
    if (i >= 0) return Promise.resolve(node.events.splice(i, 1)[0]);
    return new Promise((res, rej) => {
      const w = { ev, id, resolve: (m) => { clearTimeout(t); res(m); } };
      const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); rej(new Error(`node ${proc.pid}: no ${ev} after ${ms} ms`)); }, ms);
      waiters.push(w);
    });
  };
  /** Sends a command and waits for the event it answers with (matched by `msg.id` when given). */
  node.ask = (msg, ev, ms) => {
    const answer = node.wait(ev, ms, msg.id);
    proc.send(msg);
    return answer;
  };
  const spawned = now();
  const ready = await node.ask({ cmd: 'start', ...opts }, 'ready');
  Object.assign(node, { peerId: ready.peerId, addr: ready.addr, readyAt: ready.at, port: Number(/\/tcp\/(\d+)/.exec(ready.addr)[1]), startMs: now() - spawned });
  return node;
}

async function stopAll(nodes) {
  await Promise.all(nodes.map(async (n) => {
    await n.ask({ cmd: 'stop' }, 'stopped', 30_000).catch(() => n.proc.kill('SIGKILL'));
  }));
}

/** Resident and peak memory of a process, MB, as the kernel counts them. */
async function memory(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU time a process has used, ms (user + system, from /proc/<pid>/stat at 100 ticks/s). */
async function cpuMs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
const cpuOf = async (nodes) => (await Promise.all(nodes.map((n) => cpuMs(n.pid)))).reduce((a, b) => a + b, 0);

/**
 * Bytes the kernel has sent on every TCP socket of these listen ports (both ends of every
 * connection, so each byte once): noise, yamux, gossipsub framing and all.
 */
function wireBytes(ports) {
  const out = execFileSync('ss', ['-tinH', 'state', 'established'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const lines = out.split('\n');
  const sockets = new Map();
  for (let i = 0; i < lines.length; i++) {
    const m = /(\S+:(\d+))\s+(\S+:(\d+))\s*$/.exec(lines[i]);
    if (!m || !(ports.has(Number(m[2])) || ports.has(Number(m[4])))) continue;
    const sent = /bytes_sent:(\d+)/.exec(lines[i + 1] ?? '');
    if (sent) sockets.set(`${m[1]} ${m[3]}`, Number(sent[1]));
  }
  return sockets;
}

/** Bytes sent between two snapshots, per socket; a socket closed in between is counted apart (its last bytes are lost). */
function wireDelta(before, after) {
  let bytes = 0;
  for (const [k, v] of after) bytes += v - (before.get(k) ?? 0);
  return { bytes, closed: [...before.keys()].filter((k) => !after.has(k)).length };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

// ---- phases ----------------------------------------------------------------------------------
/** A store holding the late joiner's records, copied into every node's state before it starts. */
async function template(dir) {
  const t0 = now();
  const records = await signedRecords(RECORDS, ORIGINS);
  const genMs = now() - t0;
  const store = await openStore(join(dir, 'db'));
  for (const r of records) await store.putShared(r);
  await store.close();
  return { genMs };
}

/** Starts n nodes, each bootstrapping to up to DEGREE random nodes started before it. */
async function swarmOf(n, work, seeded) {
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const state = join(work, `node-${nodes.length}-${Math.random().toString(36).slice(2, 8)}`);
    if (seeded) await cp(seeded, state, { recursive: true });
    const pool = [...nodes];
    const bootstrap = [];
    while (bootstrap.length < Math.min(DEGREE, pool.length)) bootstrap.push(pool.splice(Math.floor(rand() * pool.length), 1)[0].addr);
    nodes.push(await spawnNode({ mode: 'swarm', state, bootstrap, prof: n > 2 && i === 1 }));
    if (i % 10 === 9) progress(`${i + 1}/${n} nodes up`);
  }
  return nodes;
}

async function statuses(nodes) {
  return Promise.all(nodes.map((n) => n.ask({ cmd: 'status' }, 'status')));
}

/** Waits until every node has a peer, then lets gossipsub build its meshes (heartbeat 1 s). */
async function settle(nodes) {
  const end = Date.now() + 60_000;
  while ((await statuses(nodes)).some((s) => s.peers === 0)) {
    if (Date.now() > end) throw new Error('some node found no peer within 60 s');
    await sleep(500);
  }
  await sleep(3_000);
}

/**
 * Publishes `count` records from random nodes at RATE per second; returns, per record, the time
 * from publish until the last other node held it in its store (null: some node never did).
 */
async function spread(nodes, count) {
  const ports = new Set(nodes.map((n) => n.port));
  const idle0 = wireBytes(ports);
  const idleCpu0 = await cpuOf(nodes);
  const idleStart = now();
  await sleep(3_000);
  const idleRate = wireDelta(idle0, wireBytes(ports)).bytes / (now() - idleStart);
  const idleCpuRate = ((await cpuOf(nodes)) - idleCpu0) / (now() - idleStart);

  const wire0 = wireBytes(ports);
  const cpu0 = await cpuOf(nodes);
  const t0 = now();
  const sent = [];
  for (let i = 0; i < count; i++) {
    const origin = nodes[Math.floor(rand() * nodes.length)];
    sent.push(origin.ask({ cmd: 'publish', id: i, n: i + 1, salt: 9000 + i }, 'published').then((p) => ({ ...p, origin })));
    await sleep(1000 / RATE);
  }
  const published = await Promise.all(sent);
  const expected = new Map(nodes.map((n) => [n, count - published.filter((p) => p.origin === n).length]));
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const st = await statuses(nodes);
    if (nodes.every((n, i) => st[i].held >= expected.get(n))) break;
    await sleep(250);
  }
  const window = now() - t0;
  const wire = wireDelta(wire0, wireBytes(ports));
  const bytes = wire.bytes - idleRate * window;
  const cpu = (await cpuOf(nodes)) - cpu0 - idleCpuRate * window;
  const keys = published.map((p) => p.key);
  const holds = await Promise.all(nodes.map((n) => n.ask({ cmd: 'holds', keys }, 'holds')));
  /** Per record, publish until the last other node had it (`field`: in its store, or off the network). */
  const lastOf = (field) => published.map((p, k) => {
    let last = 0;
    for (let j = 0; j < nodes.length; j++) {
      if (nodes[j] === p.origin) continue;
      const at = holds[j][field][k];
      if (at === null) return null;
      last = Math.max(last, at - p.at);
    }
    return last;
  });
  const latencies = lastOf('holds');
  const nodesMissing = holds.filter((h, j) => h.holds.some((at, k) => at === null && published[k].origin !== nodes[j])).length;
  const received = lastOf('received');
  return {
    latencies, received, nodesMissing, closedSockets: wire.closed, recordBytes: published.reduce((a, p) => a + p.bytes, 0) / count, wireBytesPerRecord: bytes / count,
    wireBytesPerDelivery: bytes / count / (nodes.length - 1), idleBytesPerSecond: idleRate * 1000,
    cpuMsPerDelivery: cpu / count / (nodes.length - 1), idleCpuPerNode: idleCpuRate / nodes.length,
  };
}

function summary(s) {
  const ok = s.latencies.filter((x) => x !== null);
  const got = s.received.filter((x) => x !== null);
  return {
    p50Ms: round(pct(ok, 50)), p99Ms: round(pct(ok, 99)), maxMs: round(Math.max(...ok)), missing: s.latencies.length - ok.length, nodesMissing: s.nodesMissing,
    receivedP50Ms: round(pct(got, 50)), receivedP99Ms: round(pct(got, 99)),
  };
}

/** The late joiner: empty store, bootstraps to DEGREE random nodes, catches up on everything. */
async function lateJoin(nodes, work, total) {
  const state = join(work, 'late-joiner');
  const bootstrap = [...nodes].sort(() => rand() - 0.5).slice(0, DEGREE).map((n) => n.addr);
  const joiner = await spawnNode({ mode: 'swarm', state, bootstrap, target: total });
  const caught = await joiner.wait('caughtUp', 600_000).catch((err) => ({ error: String(err) }));
  const mem = await memory(joiner.pid);
  const catchUpMs = caught.error ? null : caught.at - joiner.readyAt;
  await stopAll([joiner]);
  // The baseline: the same records, read from the local store and checked, by a fresh process.
  const reader = await spawnNode({ mode: 'swarm', state, bootstrap: [] });
  const read = await reader.ask({ cmd: 'read' }, 'read', 600_000);
  const readMem = await memory(reader.pid);
  await stopAll([reader]);
  return { caught, catchUpMs, mem, read, readMem };
}

// ---- main ------------------------------------------------------------------------------------
const work = await mkdtemp(join(tmpdir(), 'swarm-spread-'));
try {
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memGb: round(totalmem() / 2 ** 30), node: process.version, loadBefore: loadavg().map((x) => round(x, 2)) };
  progress(`generating ${RECORDS} signed records from ${ORIGINS} origins`);
  const tmpl = join(work, 'template');
  const gen = await template(tmpl);

  progress('baseline: an idle bare libp2p node');
  const bare = await spawnNode({ mode: 'bare' });
  await sleep(3_000);
  const bareMem = await memory(bare.pid);
  await stopAll([bare]);

  progress('baseline: 2 nodes');
  const pair = await swarmOf(2, work, tmpl);
  await settle(pair);
  const two = await spread(pair, Math.min(PUBLISH, 30));
  await stopAll(pair);

  progress(`${N} nodes`);
  const nodes = await swarmOf(N, work, tmpl);
  await settle(nodes);
  const st0 = await statuses(nodes);
  progress(`publishing ${PUBLISH} records at ${RATE}/s`);
  const many = await spread(nodes, PUBLISH);
  const st1 = await statuses(nodes);
  const mems = await Promise.all(nodes.map((n) => memory(n.pid)));

  progress(`late joiner catching up on ${RECORDS + PUBLISH} records`);
  const late = await lateJoin(nodes, work, RECORDS + PUBLISH);
  await stopAll(nodes);

  const rss = mems.map((m) => m.rssMb);
  const result = {
    date: new Date().toISOString(), machine: { ...machine, loadAfter: loadavg().map((x) => round(x, 2)) },
    load: { nodes: N, degree: DEGREE, published: PUBLISH, ratePerSecond: RATE, lateJoinRecords: RECORDS + PUBLISH, origins: ORIGINS },
    spread: { ...summary(many), baseline2: summary(two), p99Ratio: round(summary(many).p99Ms / summary(two).p99Ms, 2), p50Ratio: round(summary(many).p50Ms / summary(two).p50Ms, 2) },
    memory: {
      rssP50Mb: round(pct(rss, 50)), rssMaxMb: round(Math.max(...rss)), peakMaxMb: round(Math.max(...mems.map((m) => m.peakMb))),
      bareNodeMb: round(bareMem.rssMb), ratioToBare: round(pct(rss, 50) / bareMem.rssMb, 2),
    },
    lateJoin: {
      catchUpMs: round(late.catchUpMs, 0), records: late.caught.count ?? null, peakMb: round(late.mem.peakMb), rssMb: round(late.mem.rssMb),
      localReadMs: round(late.read.readMs, 0), localCheckMs: round(late.read.checkMs, 0), localPeakMb: round(late.readMem.peakMb),
      ratioToLocalRead: round(late.catchUpMs / (late.read.readMs + late.read.checkMs), 1), error: late.caught.error ?? null,
    },
    wire: {
      recordBytes: round(many.recordBytes, 0), limitBytes: LIMITS.messageBytes,
      perRecordBytes: round(many.wireBytesPerRecord, 0), perDeliveryBytes: round(many.wireBytesPerDelivery, 0),
      perDeliveryRatio: round(many.wireBytesPerDelivery / many.recordBytes, 2),
      baseline2PerDeliveryBytes: round(two.wireBytesPerDelivery, 0), idleBytesPerSecond: round(many.idleBytesPerSecond, 0),
      socketsClosedMeanwhile: many.closedSockets,
    },
    cpu: {
      perDeliveryMs: round(many.cpuMsPerDelivery, 2), baseline2PerDeliveryMs: round(two.cpuMsPerDelivery, 2),
      idleShareOfCorePerNode: round(many.idleCpuPerNode, 4),
      demandCores: round((many.cpuMsPerDelivery * (N - 1) * RATE) / 1000, 2),
    },
    network: {
      peersMin: Math.min(...st0.map((s) => s.peers)), peersMax: Math.max(...st0.map((s) => s.peers)),
      minScore: round(Math.min(...st1.map((s) => s.minScore ?? 0)), 2),
      dropped: st1.reduce((a, s) => a + Object.values(s.dropped).reduce((x, y) => x + y, 0), 0),
      warnings: st1.reduce((a, s) => a + s.warningCount, 0), sampleWarnings: st1.flatMap((s) => s.warnings).slice(0, 5),
    },
    generation: { records: RECORDS, ms: round(gen.genMs, 0) },
  };
  console.log(JSON.stringify(result, null, 2));
  if (arg.out) {
    await writeFile(arg.out, `${JSON.stringify({ ...result, samples: { latencies: many.latencies, baseline2: two.latencies, rssMb: rss } }, null, 1)}\n`);
  }
} finally {
  // Stopped nodes exit by themselves (a profiled one writes its profile first); the rest are killed.
  const end = Date.now() + 10_000;
  while (children.size > 0 && Date.now() < end) await sleep(100);
  for (const c of children) c.kill('SIGKILL');
  await rm(work, { recursive: true, force: true });
}
