import type { Fact, VerifyFact } from './facts.js';

/** How far the swarm believes a kept result. */
export type Standing = 'verified' | 'unverified' | 'disputed';

export interface Trust {
  standing: Standing;
  /** Distinct peers (not the claimant) whose replication confirmed it, and disputed it. */
  confirmations: number;
  disputes: number;
}

export const UNVERIFIED: Trust = { standing: 'unverified', confirmations: 0, disputes: 0 };

/** Key of a claim: its origin peer and experiment id (ids are the origin's to choose, so never alone). */
export const claimKey = (peer: string, experiment: string) => `${peer}/${experiment}`;

/**
 * Every replicated claim's standing, from the verify records held. Each verifier counts once
 * (its latest word). More disputes than confirmations: disputed. At least one confirmation and
 * more confirmations than disputes: verified. Otherwise (none yet, or a tie): unverified.
 */
export function standings(records: readonly Fact[]): Map<string, Trust> {
  const latest = new Map<string, VerifyFact>();
  for (const r of records) {
    if (r.type !== 'verify' || r.claimant === r.peer) continue;
    const key = `${claimKey(r.claimant, r.experiment)}|${r.peer}`;
    const prev = latest.get(key);
    if (!prev || prev.seq < r.seq) latest.set(key, r);
  }
  const counts = new Map<string, { confirmations: number; disputes: number }>();
  for (const v of latest.values()) {
    const key = claimKey(v.claimant, v.experiment);
    const c = counts.get(key) ?? { confirmations: 0, disputes: 0 };
    if (v.verdict === 'confirm') c.confirmations += 1;
    else c.disputes += 1;
    counts.set(key, c);
  }
  const out = new Map<string, Trust>();
  for (const [key, c] of counts) {
    const standing: Standing = c.disputes > c.confirmations ? 'disputed' : c.confirmations > c.disputes ? 'verified' : 'unverified';
    out.set(key, { standing, ...c });
  }
  return out;
}

/** The standing of one result. */
export function trustOf(all: ReadonlyMap<string, Trust>, r: { peer: string; experiment: string }): Trust {
  return all.get(claimKey(r.peer, r.experiment)) ?? UNVERIFIED;
}

/** Peers with at least one disputed claim: their patches are no longer rebased automatically. */
export function disputedPeers(all: ReadonlyMap<string, Trust>): Set<string> {
  const peers = new Set<string>();
  for (const [key, t] of all) if (t.standing === 'disputed') peers.add(key.slice(0, key.indexOf('/')));
  return peers;
}
