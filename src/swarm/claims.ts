import type { SignedClaim, SignedRecord } from '../p2p/index.js';

/**
 * Two peers can claim the same thing within one gossip delay. Every node orders claims the same
 * way (signing time, then peer id), so after a short wait exactly one of the racers goes ahead.
 */
export function claimedBefore(a: SignedClaim, b: SignedClaim): boolean {
  const ta = Date.parse(a.time);
  const tb = Date.parse(b.time);
  return ta !== tb ? ta < tb : a.peer < b.peer;
}

/** Unexpired claims of `fingerprint` (or, given one, of the train.py `hash`) by other peers that came before `ours`. */
export function earlierClaims(records: readonly SignedRecord[], fingerprint: string, ours: SignedClaim, hash: string | null = null): SignedClaim[] {
  const now = Date.now();
  return records.filter((r): r is SignedClaim => r.type === 'claim').filter((r) =>
    (r.fingerprint === fingerprint || (hash !== null && r.hash === hash)) && r.peer !== ours.peer && Date.parse(r.expires) > now && claimedBefore(r, ours));
}
