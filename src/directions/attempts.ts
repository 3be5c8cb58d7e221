/** Attempts from what a node holds: its own records, and the signed results and live claims of peers. */
import type { ExperimentRecord } from '../core/index.js';
import type { SignedRecord } from '../p2p/index.js';
import type { Attempt } from './types.js';

const JUDGED = new Set(['keep', 'discard', 'crash']);
/** Peer ids are checked on the wire (base58btc); bounded again here since the grouping shows them. */
const peerOf = (s: string) => s.slice(0, 128);

/** This node's runs, its imported rows ('imported') included: what ran, what runs now. The baseline carries no change. */
export function ownAttempts(records: readonly ExperimentRecord[]): Attempt[] {
  return records.filter((r) => r.hash !== null && (JUDGED.has(r.status) || r.status === 'running')).map((r) => ({
    who: r.imported ? 'imported' : 'self',
    status: r.status as Attempt['status'],
    diff: r.diff,
    hypothesis: r.hypothesis,
    gain: r.bestBefore !== null && r.metrics ? r.bestBefore - r.metrics.val_bpb : null,
    at: r.endedAt ?? r.startedAt,
  }));
}

/** This node's judged experiments since its last keep (the baseline counts as a keep; imported rows do not count). */
export function sinceLastKeep(records: readonly ExperimentRecord[]): number {
  let n = 0;
  for (const r of records) {
    if (r.imported || !JUDGED.has(r.status)) continue;
    n = r.status === 'keep' ? 0 : n + 1;
  }
  return n;
}

/**
 * Peers' results and unexpired claims, leaving out `own` experiment ids (this node's records come
 * from its store). A result's gain is against the val_bpb the swarm measured for its parent train.py.
 */
export function peerAttempts(shared: readonly SignedRecord[], own: ReadonlySet<string>, now = Date.now()): Attempt[] {
  const measured = new Map<string, number>();
  for (const r of shared) {
    if (r.type !== 'result' || r.hash === null || !r.metrics || r.imported) continue;
    const prev = measured.get(r.hash);
    if (prev === undefined || r.metrics.val_bpb < prev) measured.set(r.hash, r.metrics.val_bpb);
  }
  // A claim followed by its result is no longer running.
  const finished = new Set(shared.flatMap((r) => (r.type === 'result' ? [`${r.peer}/${r.experiment}`] : [])));
  const out: Attempt[] = [];
  for (const r of shared) {
    if (r.type === 'result' && JUDGED.has(r.status) && !own.has(r.experiment)) {
      const parent = measured.get(r.parentHash);
      out.push({
        who: peerOf(r.peer), status: r.status, diff: r.diff ?? '', hypothesis: r.hypothesis,
        gain: parent !== undefined && r.metrics ? parent - r.metrics.val_bpb : null, at: r.endedAt,
      });
    } else if (r.type === 'claim' && !own.has(r.experiment) && !finished.has(`${r.peer}/${r.experiment}`) && Date.parse(r.expires) > now) {
      out.push({ who: peerOf(r.peer), status: 'running', diff: '', hypothesis: r.hypothesis, gain: null, at: r.time });
    }
  }
  return out;
}
