/**
 * What the page receives: the node's records, the swarm's results, board and peers, shaped for
 * display. Pure functions; every string in here may come from a hostile peer and is only ever
 * sent as JSON data (the page renders it as text).
 */
import type { LiveRun, LiveStatus } from '../control/index.js';
import { hardwareLabel, type ExperimentRecord } from '../core/index.js';
import { DEFAULT_PLATEAU, explorationView, type ExplorationView } from '../directions/index.js';
import type { SignedRecord, SignedResult } from '../p2p/index.js';
import { leaderboard, peerTable, type LeaderboardClass, type LeaderboardEntry, type PeerEntry } from '../swarm/index.js';
import { standings, trustOf, type Standing } from '../trust/index.js';
import type { DashboardSnapshot, FeedEntry } from './types.js';

/** A live loss point of the run in flight. */
export interface ProgressPoint { step: number; loss: number; elapsedSeconds: number }

export interface RecordRow {
  id: string; seq: number; status: string; hypothesis: string; val_bpb: number | null;
  bestBefore: number | null; reason: string | null; insideNoise: boolean; proposer: string; origin: string;
  startedAt: string; endedAt: string | null;
}

export interface ResultRow {
  peer: string; experiment: string; status: string; val_bpb: number | null; endedAt: string; hypothesis: string; hardware: string;
  /** From the replications held: a disputed result is drawn, but never counted as a best. */
  standing: Standing;
}

export interface PeerRow extends PeerEntry {
  self: boolean; connected: boolean; program: string | null; lastSeen: string | null;
}

/** A leaderboard class as the page shows it: without each entry's lineage (up to 4096 ids a peer chose, never shown there). */
export type BoardClass = Omit<LeaderboardClass, 'entries'> & { entries: Omit<LeaderboardEntry, 'lineage'>[] };

/** One worker of a running node as the page shows it: its device, its run in flight and that run's loss curve. */
export interface WorkerView {
  worker: number;
  device: string;
  current: LiveRun | null;
  progress: ProgressPoint[];
}

/** A worker's loss curve, as the live hub keeps it. */
export interface WorkerCurve { worker: number; points: ProgressPoint[] }

export interface SnapshotView {
  now: string;
  node: { peerId: string | null; program: string | null };
  records: RecordRow[];
  results: ResultRow[];
  leaderboard: BoardClass[];
  peers: PeerRow[];
  noise: { n: number; sigma: number | null; k: number; runs: number; afterSeq: number; at: string }[];
  live: DashboardSnapshot['live'];
  /** Every worker of the running node, in order; none when the node is stopped. */
  workers: WorkerView[];
  /** The loss curve of the first busy worker (what pages from before workers draw). */
  progress: ProgressPoint[];
  feed: FeedEntry[];
  /** The node's plateau and the swarm's directions (src/directions): names are bounded identifiers. */
  exploration: ExplorationView;
}

const MAX_WORKERS = 1024;
const MAX_DEVICE = 64;

/**
 * The workers of a live status, checked: an index the page uses as a key must be a small integer.
 * A node from before workers sends none: its one run is worker 0's.
 */
export function liveWorkers(live: DashboardSnapshot['live']): LiveStatus['workers'] {
  if (!live) return [];
  const given: unknown = (live as { workers?: unknown }).workers;
  if (!Array.isArray(given)) return [{ worker: 0, device: '', current: live.current }];
  const seen = new Set<number>();
  return given.filter((w): w is LiveStatus['workers'][number] => {
    if (!isObject(w) || !Number.isSafeInteger(w.worker) || (w.worker as number) < 0 || (w.worker as number) >= MAX_WORKERS || seen.has(w.worker as number)) return false;
    seen.add(w.worker as number);
    return isObject(w.current) || w.current === null;
  }).map((w) => ({ worker: w.worker, device: String(w.device).slice(0, MAX_DEVICE), current: w.current }));
}

function workerViews(live: DashboardSnapshot['live'], curves: readonly WorkerCurve[]): { workers: WorkerView[]; progress: ProgressPoint[] } {
  const points = new Map(curves.map((c) => [c.worker, c.points]));
  const workers = liveWorkers(live).map((w) => ({ ...w, progress: points.get(w.worker) ?? [] }));
  // The curve old pages draw: the first busy worker's, else the last run's (as before workers).
  const first = workers.find((w) => w.current !== null) ?? workers.find((w) => w.progress.length > 0);
  return { workers, progress: first?.progress ?? curves.find((c) => c.points.length > 0)?.points ?? [] };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** Signed records with the fields the swarm's own functions read; anything else is left out. */
export function signedRecords(shared: readonly unknown[]): SignedRecord[] {
  return shared.filter((r): r is SignedRecord => isObject(r) && typeof r.type === 'string' && typeof r.peer === 'string');
}

const results = (shared: readonly SignedRecord[]) => shared.filter((r): r is SignedResult => r.type === 'result');

/** This node's peer id: the live one, else the peer that signed results bearing our experiment ids. */
export function selfPeer(snap: DashboardSnapshot, shared: readonly SignedRecord[]): string | null {
  if (snap.live?.swarm) return snap.live.swarm.peerId;
  const ours = new Set(snap.records.map((r) => r.id));
  return results(shared).find((r) => ours.has(r.experiment))?.peer ?? null;
}

function recordRow(r: ExperimentRecord): RecordRow {
  return {
    id: r.id, seq: r.seq, status: r.status, hypothesis: r.hypothesis, val_bpb: r.metrics?.val_bpb ?? null,
    bestBefore: r.bestBefore, reason: r.reason, insideNoise: r.insideNoise === true, proposer: r.origin.proposer,
    origin: r.origin.kind, startedAt: r.startedAt, endedAt: r.endedAt,
  };
}

function peerRows(snap: DashboardSnapshot, shared: readonly SignedRecord[], self: string | null): PeerRow[] {
  const connected = new Set(snap.live?.swarm?.peers.filter((p) => p.connected).map((p) => p.id) ?? []);
  const seen = new Map<string, { time: string; program: string }>();
  for (const r of shared) {
    const prev = seen.get(r.peer);
    if (typeof r.time === 'string' && (!prev || prev.time < r.time)) seen.set(r.peer, { time: r.time, program: String(r.program) });
  }
  const table = peerTable(shared);
  const known = new Set(table.map((p) => p.peer));
  // Peers that are connected but have published no result yet still belong in the table.
  for (const p of snap.live?.swarm?.peers ?? []) {
    if (!known.has(p.id)) table.push({ peer: p.id, experiments: 0, kept: 0, crashed: 0, best: null, verified: 0, disputed: 0, score: 0, sigma: null });
  }
  return table.map((p) => ({
    ...p, self: p.peer === self, connected: connected.has(p.peer),
    program: seen.get(p.peer)?.program ?? null, lastSeen: seen.get(p.peer)?.time ?? null,
  }));
}

export function snapshotView(snap: DashboardSnapshot, curves: readonly WorkerCurve[], feed: FeedEntry[]): SnapshotView {
  const shared = signedRecords(snap.shared);
  const self = selfPeer(snap, shared);
  const trust = standings(shared);
  return {
    now: new Date().toISOString(),
    node: { peerId: self, program: snap.live?.swarm?.program ?? shared.find((r) => r.peer === self)?.program ?? null },
    records: snap.records.map(recordRow),
    results: results(shared).map((r) => ({
      peer: r.peer, experiment: r.experiment, status: r.status, val_bpb: r.metrics?.val_bpb ?? null,
      endedAt: r.endedAt, hypothesis: r.hypothesis, hardware: hardwareLabel(r.hardware), standing: trustOf(trust, r).standing,
    })),
    leaderboard: leaderboard(shared, 10).map((c) => ({ ...c, entries: c.entries.map(({ lineage: _, ...e }) => e) })),
    peers: peerRows(snap, shared, self),
    noise: snap.noise.map((f) => ({ n: f.n, sigma: f.sigma, k: f.k, runs: f.values.length, afterSeq: f.afterSeq, at: f.at })),
    live: snap.live,
    ...workerViews(snap.live, curves),
    feed,
    exploration: explorationView(snap.records, shared, snap.source ?? '', snap.plateau ?? DEFAULT_PLATEAU),
  };
}

export interface LineageItem { id: string; peer: string | null; seq: number | null; hypothesis: string | null; local: boolean }

export interface ExperimentView {
  local: boolean;
  peer: string | null;
  id: string;
  seq: number | null;
  status: string;
  hypothesis: string;
  reason: string | null;
  proposer: string;
  origin: string | null;
  metrics: ExperimentRecord['metrics'];
  bestBefore: number | null;
  margin: number | null;
  insideNoise: boolean;
  hardware: string;
  dataset: string;
  budget: string;
  startedAt: string;
  endedAt: string | null;
  commit: string | null;
  parent: { id: string; seq: number; hypothesis: string } | null;
  diff: string | null;
  logTail: string[];
  lineage: LineageItem[];
}

const LOG_LINES = 200;
const LINE_CHARS = 2000;

/** Finds an experiment by our number (`12`, `#12`), our id, or a peer's experiment id. */
export function findExperiment(snap: DashboardSnapshot, ref: string): { own: ExperimentRecord } | { peer: SignedResult } | null {
  const seq = /^#?(\d+)$/.exec(ref);
  const own = seq ? snap.records.find((r) => r.seq === Number(seq[1])) : snap.records.find((r) => r.id === ref);
  if (own) return { own };
  const peer = results(signedRecords(snap.shared)).find((r) => r.experiment === ref);
  return peer ? { peer } : null;
}

function lineageOf(ids: readonly string[], snap: DashboardSnapshot, shared: readonly SignedRecord[], self: string | null): LineageItem[] {
  const peerResults = new Map(results(shared).map((r) => [r.experiment, r]));
  return ids.slice(-200).map((id) => {
    const own = snap.records.find((r) => r.id === id);
    if (own) return { id, peer: self, seq: own.seq, hypothesis: own.hypothesis, local: true };
    const theirs = peerResults.get(id);
    return { id, peer: theirs?.peer ?? null, seq: null, hypothesis: theirs?.hypothesis ?? null, local: false };
  });
}

const budgetOf = (b: { budgetSeconds: number; budgetTokens?: number }) => (b.budgetTokens !== undefined ? `${b.budgetTokens} tokens` : `${b.budgetSeconds} s`);

export function experimentView(snap: DashboardSnapshot, found: NonNullable<ReturnType<typeof findExperiment>>, log: string[]): ExperimentView {
  const shared = signedRecords(snap.shared);
  const self = selfPeer(snap, shared);
  const tail = log.slice(-LOG_LINES).map((l) => l.slice(0, LINE_CHARS));
  if ('own' in found) {
    const r = found.own;
    const parent = snap.records.find((p) => p.commit !== null && p.commit === r.parentCommit && p.id !== r.id);
    return {
      local: true, peer: self, id: r.id, seq: r.seq, status: r.status, hypothesis: r.hypothesis, reason: r.reason,
      proposer: r.origin.proposer, origin: r.origin.kind, metrics: r.metrics, bestBefore: r.bestBefore,
      margin: r.margin ?? null, insideNoise: r.insideNoise === true, hardware: hardwareLabel(r.hardware),
      dataset: r.dataset, budget: budgetOf(r), startedAt: r.startedAt, endedAt: r.endedAt, commit: r.commit,
      parent: parent ? { id: parent.id, seq: parent.seq, hypothesis: parent.hypothesis } : null,
      diff: r.diff, logTail: tail, lineage: lineageOf(r.lineage ?? [], snap, shared, self),
    };
  }
  const r = found.peer;
  return {
    local: false, peer: r.peer, id: r.experiment, seq: null, status: r.status, hypothesis: r.hypothesis, reason: r.reason,
    proposer: r.proposer, origin: null, metrics: r.metrics, bestBefore: null, margin: null, insideNoise: false,
    hardware: hardwareLabel(r.hardware), dataset: r.dataset, budget: budgetOf(r), startedAt: r.startedAt, endedAt: r.endedAt,
    commit: null, parent: null, diff: r.diff, logTail: [], lineage: lineageOf(r.lineage, snap, shared, self),
  };
}
