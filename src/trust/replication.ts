/**
 * Replication: peers re-run a claimed result's exact train.py and say whether they got the same
 * val_bpb. Pure rules, so every node reaches the same verdict from the same numbers.
 */

export type ReplicationVerdict = 'confirm' | 'dispute';

/** Smallest tolerance, for boxes whose noise floor is not known yet or measured as zero. */
export const MIN_TOLERANCE = 0.001;

/** How far a replication may land above the claim: k times the larger of the two boxes' σ, at least MIN_TOLERANCE. */
export function replicationTolerance(k: number, sigmas: readonly (number | null | undefined)[]): number {
  const sigma = Math.max(0, ...sigmas.filter((s): s is number => typeof s === 'number' && Number.isFinite(s)));
  return Math.max(MIN_TOLERANCE, k * sigma);
}

/**
 * A replication confirms a claim when it got a val_bpb no worse than claim + tolerance (better is
 * fine: the claim was not inflated). A run that crashed, or landed clearly worse, disputes it.
 */
export function replicationVerdict(claimed: number, measured: number | null, tolerance: number): ReplicationVerdict {
  return measured !== null && Number.isFinite(measured) && measured <= claimed + tolerance ? 'confirm' : 'dispute';
}
