import { hardwareClass } from '../core/index.js';
import type { SignedNoise, SignedRecord, SignedResult } from '../p2p/index.js';
import { standings, trustOf, type Standing, type Trust } from '../trust/index.js';

export interface LeaderboardEntry {
  rank: number;
  val_bpb: number;
  peer: string;
  experiment: string;
  hypothesis: string;
  proposer: string;
  endedAt: string;
  lineage: string[];
  /** verified, unverified or disputed, from the replications held. */
  standing: Standing;
  /** A foreign harness's result: its val_bpb is the run's own print (replications still check it). */
  selfReported: boolean;
  confirmations: number;
  disputes: number;
}

/** One hardware class's ranking. Results of different classes are never ranked together. */
export interface LeaderboardClass {
  /** The unit one experiment runs on: the accelerator model (e.g. "NVIDIA H100 80GB HBM3") or the CPU name. */
  hardware: string;
  /** Kept results in this class across the swarm. */
  kept: number;
  entries: LeaderboardEntry[];
}

export interface PeerEntry {
  peer: string;
  experiments: number;
  kept: number;
  crashed: number;
  best: number | null;
  /** Its kept results that replications confirmed, and that they disputed. */
  verified: number;
  disputed: number;
  /** verified − 2 × disputed: a peer caught inflating results ranks below one that never was. */
  score: number;
  /** σ of val_bpb from its latest noise floor, when it shared one. */
  sigma: number | null;
}

const results = (records: readonly SignedRecord[]) => records.filter((r): r is SignedResult => r.type === 'result');

/**
 * The swarm's ranking, computed by every node from the same signed records, so all nodes that
 * hold the same records print the same board: per hardware class, the best kept results, each
 * marked with its standing. Disputed results rank below every other; ties go to the earlier
 * result, then to the smaller peer id.
 */
export function leaderboard(records: readonly SignedRecord[], perClass = 5): LeaderboardClass[] {
  const trust = standings(records);
  const byClass = new Map<string, { r: SignedResult; t: Trust }[]>();
  for (const r of results(records)) {
    // An imported row was measured by another run's own harness and box: history, not a standing.
    if (r.status !== 'keep' || r.metrics === null || r.imported) continue;
    const cls = hardwareClass(r.hardware);
    // push, not a copy per result: peers' records are cheap to make, the node's event loop is not
    const list = byClass.get(cls);
    if (list) list.push({ r, t: trustOf(trust, r) });
    else byClass.set(cls, [{ r, t: trustOf(trust, r) }]);
  }
  const disputed = (t: Trust) => (t.standing === 'disputed' ? 1 : 0);
  return [...byClass.entries()]
    .map(([hardware, kept]) => ({
      hardware,
      kept: kept.length,
      entries: [...kept]
        .sort((a, b) => disputed(a.t) - disputed(b.t) || a.r.metrics!.val_bpb - b.r.metrics!.val_bpb || a.r.endedAt.localeCompare(b.r.endedAt) || a.r.peer.localeCompare(b.r.peer))
        .slice(0, perClass)
        .map(({ r, t }, i): LeaderboardEntry => ({
          rank: i + 1, val_bpb: r.metrics!.val_bpb, peer: r.peer, experiment: r.experiment, hypothesis: r.hypothesis,
          proposer: r.proposer, endedAt: r.endedAt, lineage: r.lineage, selfReported: r.selfReported === true, ...t,
        })),
    }))
    .sort((a, b) => a.hardware.localeCompare(b.hardware));
}

/** Every peer that has published results, with its counts, best, standing and noise floor. */
export function peerTable(records: readonly SignedRecord[]): PeerEntry[] {
  const trust = standings(records);
  const peers = new Map<string, PeerEntry>();
  const entry = (peer: string) => {
    const e = peers.get(peer) ?? { peer, experiments: 0, kept: 0, crashed: 0, best: null, verified: 0, disputed: 0, score: 0, sigma: null };
    peers.set(peer, e);
    return e;
  };
  for (const r of results(records)) {
    if (r.imported) continue;
    const e = entry(r.peer);
    e.experiments += 1;
    if (r.status === 'crash') e.crashed += 1;
    if (r.status !== 'keep') continue;
    e.kept += 1;
    if (r.metrics && (e.best === null || r.metrics.val_bpb < e.best)) e.best = r.metrics.val_bpb;
    const standing = trustOf(trust, r).standing;
    if (standing === 'verified') e.verified += 1;
    if (standing === 'disputed') e.disputed += 1;
  }
  const noise = records.filter((r): r is SignedNoise => r.type === 'noise' && r.sigma !== null).sort((a, b) => a.seq - b.seq);
  for (const n of noise) if (peers.has(n.peer)) entry(n.peer).sigma = n.sigma;
  for (const e of peers.values()) e.score = e.verified - 2 * e.disputed;
  return [...peers.values()].sort((a, b) => a.peer.localeCompare(b.peer));
}
