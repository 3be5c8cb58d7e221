import type { ExperimentRecord } from '../../src/core/index.js';

/** A plausible finished record; override what the test is about. */
export function makeRecord(over: Partial<ExperimentRecord> = {}): ExperimentRecord {
  return {
    v: 1, id: `id-${over.seq ?? 1}`, seq: 1, status: 'discard', hypothesis: 'x',
    origin: { kind: 'proposer', proposer: 'mutate' },
    parentHash: 'p'.repeat(64), hash: 'h'.repeat(64), parentCommit: 'c'.repeat(40), commit: 'd'.repeat(40),
    diff: '', outcome: 'ok', reason: null,
    metrics: { val_bpb: 1.5, training_seconds: 3, total_seconds: 9, peak_vram_mb: 2048, mfu_percent: 1, total_tokens_M: 0.1, num_steps: 5, num_params_M: 4, depth: 4 },
    bestBefore: null, hardware: null, dataset: 'sotu', budgetSeconds: 3, attempts: 1,
    startedAt: '2026-11-23T00:00:00.000Z', endedAt: '2026-11-23T00:00:10.000Z', logTail: [], logPath: null,
    ...over,
  };
}
