import type { ExperimentRecord, HistoryEntry } from '../core/index.js';

/** What the proposers are told about past experiments: headline numbers, failures included. */
export function toHistory(records: readonly ExperimentRecord[]): HistoryEntry[] {
  // Proposals that never became a train.py teach the next proposal nothing; a skip's result is a peer's, in the swarm's history.
  // An imported row teaches its idea even when only its description is left.
  return records.filter((r) => (r.hash !== null || r.imported) && r.status !== 'skip').map((r) => ({
    seq: r.seq,
    status: r.status,
    // An imported row's val_bpb was measured by another run's harness and box: say so, or it reads as ours.
    hypothesis: r.imported ? `[imported] ${r.hypothesis}` : r.hypothesis,
    diff: r.diff,
    val_bpb: r.metrics?.val_bpb ?? null,
    reason: r.reason,
  }));
}

/** Content hash → first experiment that ran it, for every train.py already run; none is run twice. */
export function triedHashes(records: readonly ExperimentRecord[]): Map<string, number> {
  const tried = new Map<string, number>();
  for (const r of records) if (r.hash !== null && r.status !== 'invalid' && r.status !== 'skip' && !tried.has(r.hash)) tried.set(r.hash, r.seq);
  return tried;
}

/** The latest kept record: the node's current best. Imported rows were measured elsewhere and never are. */
export function latestKeep(records: readonly ExperimentRecord[]): ExperimentRecord | undefined {
  return records.filter((r) => r.status === 'keep' && r.metrics !== null && !r.imported).at(-1);
}

/** This node's records the current best is made of (its lineage), oldest first, as history entries. */
export function bestLineage(records: readonly ExperimentRecord[]): HistoryEntry[] {
  const ids = new Set(latestKeep(records)?.lineage ?? []);
  return toHistory(records.filter((r) => ids.has(r.id)));
}
