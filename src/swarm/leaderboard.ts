import type { SignedRecord, SignedResult } from '../p2p/index.js';

export interface LeaderboardEntry {
  /** The hardware class: accelerator model. Results of different classes are never ranked together. */
  hardware: string;
  val_bpb: number;
  peer: string;
  experiment: string;
  hypothesis: string;
  proposer: string;
  endedAt: string;
  lineage: string[];
  /** Kept results in this class across the swarm. */
  kept: number;
}

export interface PeerEntry {
  peer: string;
  experiments: number;
  kept: number;
  crashed: number;
  best: number | null;
}

const results = (records: readonly SignedRecord[]) => records.filter((r): r is SignedResult => r.type === 'result');

/**
 * The swarm's ranking, computed by every node from the same signed records, so all nodes that
 * hold the same records print the same board: the best kept val_bpb per hardware class.
 * Ties go to the earlier result, then to the smaller peer id.
 */
export function leaderboard(records: readonly SignedRecord[]): LeaderboardEntry[] {
  const byClass = new Map<string, SignedResult[]>();
  for (const r of results(records)) {
    if (r.status !== 'keep' || r.metrics === null) continue;
    const cls = r.hardware?.name ?? 'unknown';
    byClass.set(cls, [...(byClass.get(cls) ?? []), r]);
  }
  return [...byClass.entries()]
    .map(([hardware, kept]) => {
      const best = [...kept].sort((a, b) => a.metrics!.val_bpb - b.metrics!.val_bpb || a.endedAt.localeCompare(b.endedAt) || a.peer.localeCompare(b.peer))[0]!;
      return {
        hardware, val_bpb: best.metrics!.val_bpb, peer: best.peer, experiment: best.experiment, hypothesis: best.hypothesis,
        proposer: best.proposer, endedAt: best.endedAt, lineage: best.lineage, kept: kept.length,
      };
    })
    .sort((a, b) => a.hardware.localeCompare(b.hardware));
}

/** Every peer that has published results, with its counts and best. */
export function peerTable(records: readonly SignedRecord[]): PeerEntry[] {
  const peers = new Map<string, PeerEntry>();
  for (const r of results(records)) {
    const e = peers.get(r.peer) ?? { peer: r.peer, experiments: 0, kept: 0, crashed: 0, best: null };
    e.experiments += 1;
    if (r.status === 'keep') e.kept += 1;
    if (r.status === 'crash') e.crashed += 1;
    if (r.status === 'keep' && r.metrics && (e.best === null || r.metrics.val_bpb < e.best)) e.best = r.metrics.val_bpb;
    peers.set(r.peer, e);
  }
  return [...peers.values()].sort((a, b) => a.peer.localeCompare(b.peer));
}
