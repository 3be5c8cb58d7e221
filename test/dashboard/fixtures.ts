/** Real-shaped data for the dashboard tests: a node's records, its swarm's signed records, a live run, and hostile strings. */
import { request, type IncomingHttpHeaders } from 'node:http';
import type { LiveRun } from '../../src/control/index.js';
import type { ExperimentRecord, Hardware, NoiseFloor } from '../../src/core/index.js';
import type { DashboardEvent, DashboardSnapshot, DashboardSource } from '../../src/dashboard/index.js';
import type { LoopEvent } from '../../src/loop/index.js';

export const HOSTILE = '<img src=x onerror="window.__pwned=1">';
export const SELF = '12D3KooWSe1fNodeAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
export const PEER_B = '12D3KooWPeerBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
export const PEER_EVIL = `12D3KooW${HOSTILE}`;
export const PROGRAM = 'a3f9c0de5b71'.padEnd(64, '0');

export const CPU: Hardware = { device: 'cpu', name: 'AMD EPYC 7B13', count: 1, memoryGb: 8, torch: '2.13.0', cuda: null, python: '3.11.2' };

const T0 = Date.parse('2026-12-01T18:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

const DIFF = `--- a/train.py
+++ b/train.py
@@ -10,7 +10,7 @@
 DEPTH = 4
-LEARNING_RATE = 0.02
+LEARNING_RATE = 0.03
 WARMUP = 100
-${HOSTILE}
+</pre><script>window.__pwned=1</script>
`;

export function record(seq: number, status: ExperimentRecord['status'] | 'skip', val: number | null, hypothesis: string, extra: Partial<ExperimentRecord> = {}): ExperimentRecord {
  const metrics = val === null ? null : {
    val_bpb: val, training_seconds: 28.1, total_seconds: 34.5, peak_vram_mb: 0, mfu_percent: 0,
    total_tokens_M: 0.2, num_steps: 98, num_params_M: 1.4, depth: 4,
  };
  return {
    v: 1, id: `exp-${String(seq).padStart(3, '0')}-${status}`, seq, status: status as ExperimentRecord['status'], hypothesis,
    origin: { kind: seq === 1 ? 'baseline' : 'proposer', proposer: 'mutate' },
    parentHash: 'p'.repeat(64), hash: 'h'.repeat(64), parentCommit: `c${seq - 1}`.padEnd(40, '0'), commit: `c${seq}`.padEnd(40, '0'),
    diff: seq === 1 ? '' : DIFF, outcome: status === 'crash' ? 'crash' : 'ok', reason: status === 'keep' ? null : status === 'crash' ? 'exit code 1' : 'no gain',
    metrics, bestBefore: seq === 1 ? null : 1.8, hardware: CPU, dataset: 'sotu', budgetSeconds: 30, budgetTokens: 200_000,
    attempts: 1, startedAt: at(seq * 2), endedAt: at(seq * 2 + 1), logTail: ['step 98 loss 2.91', HOSTILE], logPath: null,
    lineage: [], ...extra,
  };
}

/** Twelve experiments and one skipped duplicate: 4 kept, 6 discarded, 2 crashed. */
export function ownRecords(): ExperimentRecord[] {
  return [
    record(1, 'keep', 1.82, 'baseline'),
    record(2, 'discard', 1.85, 'raise the learning rate to 0.03'),
    record(3, 'keep', 1.79, HOSTILE),
    record(4, 'crash', null, 'double the depth'),
    record(5, 'discard', 1.81, 'warmup 200 steps', { insideNoise: true }),
    record(6, 'keep', 1.76, 'combine: peer B weight decay 0.05', { origin: { kind: 'peer', proposer: 'mutate' }, lineage: ['exp-003-keep', 'peerB-007'] }),
    record(7, 'discard', 1.78, 'batch 16'),
    record(8, 'discard', 1.80, 'rotary base 5000'),
    record(9, 'crash', null, 'mlp ratio 6', { reason: HOSTILE }),
    record(10, 'keep', 1.74, 'cosine schedule to 10 %'),
    record(11, 'discard', 1.75, 'dropout 0.05'),
    record(12, 'discard', 1.77, 'adam beta2 0.98'),
    record(13, 'skip', null, 'batch 16', { reason: `already tried by peer ${PEER_B}`, metrics: null, commit: null, endedAt: at(27) }),
  ];
}

const envelope = (peer: string, seq: number, time: string) => ({ v: 1, program: PROGRAM, peer, seq, time, sig: 'c2ln' });

export function resultOf(peer: string, seq: number, r: ExperimentRecord): Record<string, unknown> {
  return {
    type: 'result', experiment: r.id, parentHash: r.parentHash, hash: r.hash, diffHash: 'd'.repeat(64), diff: r.diff,
    fingerprint: `f${seq}`, status: r.status, hypothesis: r.hypothesis, proposer: r.origin.proposer, outcome: r.outcome,
    reason: null, metrics: r.metrics, hardware: r.hardware, dataset: r.dataset, budgetSeconds: r.budgetSeconds,
    startedAt: r.startedAt, endedAt: r.endedAt ?? r.startedAt, lineage: r.lineage ?? [], ...envelope(peer, seq, r.endedAt ?? r.startedAt),
  };
}

/** Our own results as shared, two peers' (one of them hostile), a replication and noise floors. */
export function sharedRecords(own: ExperimentRecord[]): Record<string, unknown>[] {
  const ours = own.filter((r) => r.status === 'keep' || r.status === 'discard' || r.status === 'crash').map((r, i) => resultOf(SELF, i + 1, r));
  const peerB = [1, 2, 3, 4, 5, 6, 7].map((i) => resultOf(PEER_B, i, {
    ...record(i, i % 3 === 0 ? 'keep' : 'discard', 1.83 - i * 0.012, `peer B idea ${i}`), id: `peerB-00${i}`,
  }));
  const evil = resultOf(PEER_EVIL, 1, { ...record(1, 'keep', 1.7, HOSTILE), id: `evil-${HOSTILE}`, lineage: [HOSTILE] });
  const verify = {
    type: 'verify', claimant: PEER_B, experiment: 'peerB-006', hash: 'h'.repeat(64), claimed: 1.758, val_bpb: 1.76, outcome: 'ok',
    tolerance: 0.01, verdict: 'confirm', hardware: CPU, ...envelope(SELF, 40, at(40)),
  };
  const dispute = {
    type: 'verify', claimant: PEER_EVIL, experiment: `evil-${HOSTILE}`, hash: 'h'.repeat(64), claimed: 1.7, val_bpb: 1.9, outcome: 'ok',
    tolerance: 0.01, verdict: 'dispute', hardware: CPU, ...envelope(PEER_B, 41, at(41)),
  };
  const noise = { type: 'noise', hash: 'h'.repeat(64), seeds: [1, 2, 3], values: [1.82, 1.824, 1.817], sigma: 0.0035, k: 2, hardware: CPU, ...envelope(PEER_B, 9, at(9)) };
  return [...ours, ...peerB, evil, verify, dispute, noise];
}

export function noiseFloors(): NoiseFloor[] {
  return [{ v: 1, n: 1, hash: 'h'.repeat(64), seeds: [2, 3, 4], values: [1.821, 1.818, 1.824], sigma: 0.003, k: 2, hardware: CPU, afterSeq: 1, at: at(5) }];
}

/** A node running experiment `seq` on its first worker; further devices run seq+1, seq+2… each a fifth further along. */
export function liveStatus(seq: number, devices: string[] = ['cpu']): NonNullable<DashboardSnapshot['live']> {
  const run = (i: number): LiveRun => ({
    kind: 'experiment', seq: seq + i, hypothesis: i === 0 ? 'embedding lr 0.8' : `worker ${i} idea`, step: 40 + i * 20, loss: 3.1 - i * 0.1,
    elapsedSeconds: 12 + i * 6, wallSeconds: 15 + i * 6, budget: '200k tokens', fraction: (2 + i) / 5, expectedSeconds: 30,
  });
  const workers = devices.map((device, i) => ({ worker: i, device, current: run(i) }));
  return {
    pid: 4242, startedAt: at(0), next: 'the next candidate', nextIn: 15,
    current: workers[0]!.current, workers,
    swarm: { peerId: SELF, program: PROGRAM, addresses: ['/ip4/127.0.0.1/tcp/4001'], peers: [{ id: PEER_B, connected: true }], dropped: {} },
  };
}

/** An in-memory node: a source whose data the test changes, and loop events it pushes. */
export function memorySource(opts: { live?: boolean; subscribe?: boolean; devices?: string[] } = {}) {
  const records = ownRecords();
  const data: DashboardSnapshot = { records, shared: sharedRecords(records), noise: noiseFloors(), live: opts.live === false ? null : liveStatus(14, opts.devices) };
  const listeners = new Set<(e: DashboardEvent) => void>();
  const source: DashboardSource = {
    snapshot: async () => structuredClone(data),
    runLog: async (r) => [...r.logTail, `log of ${r.id}`],
  };
  if (opts.subscribe !== false) {
    source.subscribe = (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    };
  }
  const emit = (e: DashboardEvent) => listeners.forEach((l) => l(e));
  const loop = (event: LoopEvent) => emit({ type: 'loop', event });
  return { source, data, emit, loop, listeners };
}

export interface Reply { status: number; headers: IncomingHttpHeaders; body: string }

/** A raw GET (or other method) on loopback, with the headers as given: the tests set Host, Origin, cookies themselves. */
export function http(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
