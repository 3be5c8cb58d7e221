import type { Standing } from './standing.js';

/**
 * Whose code this box runs (peers' patches rebased here, their bests adopted, their results replicated).
 * `all`: any peer's, screened and sandboxed (the default: the sandbox is what protects the box, and
 * combining everyone's patches is the point of a swarm). `verified`: only results another peer has
 * confirmed by replication. `allowlist`: only the listed peers'. `none`: never; results are still
 * shared and used to skip what was already tried.
 */
export type RunPolicy = 'all' | 'verified' | 'allowlist' | 'none';
export const RUN_POLICIES: readonly RunPolicy[] = ['all', 'verified', 'allowlist', 'none'];

export interface PolicyInput {
  policy: RunPolicy;
  /** Peer ids trusted by name: always allowed, except under `none`. */
  allowlist: ReadonlySet<string>;
  peer: string;
  standing: Standing;
  /** The peer has a disputed claim somewhere. */
  peerDisputed: boolean;
}

/** What to do with a peer's code: run it, wait for a verification, or refuse (with the reason). */
export type PolicyDecision = { run: true } | { run: false; wait: boolean; reason: string };

export function peerCodeDecision(p: PolicyInput): PolicyDecision {
  if (p.policy === 'none') return { run: false, wait: false, reason: "run policy 'none': peers' code never runs here" };
  if (p.standing === 'disputed') return { run: false, wait: false, reason: 'its result is disputed: replications measured clearly worse' };
  if (p.allowlist.has(p.peer)) return { run: true };
  if (p.peerDisputed) return { run: false, wait: false, reason: 'the peer has disputed claims, so its patches are not rebased automatically' };
  if (p.policy === 'allowlist') return { run: false, wait: false, reason: "run policy 'allowlist': the peer is not on the allowlist" };
  if (p.policy === 'verified' && p.standing !== 'verified') return { run: false, wait: true, reason: "run policy 'verified': waiting for a replication to confirm it" };
  return { run: true };
}

/**
 * Whether this box re-runs a peer's result to verify it. Replicating runs unverified code, so under
 * `verified` and `allowlist` only listed peers are replicated, and under `none` nobody.
 */
export function mayReplicate(policy: RunPolicy, allowlist: ReadonlySet<string>, peer: string): boolean {
  return policy === 'all' || (policy !== 'none' && allowlist.has(peer));
}
