import type { ExperimentStatus, Metrics, RunOutcome } from '../core/index.js';

export interface Verdict {
  status: Extract<ExperimentStatus, 'keep' | 'discard' | 'crash'>;
  /** Why it was discarded or crashed; null when kept. */
  reason: string | null;
}

export interface JudgeInput {
  outcome: RunOutcome;
  metrics: Metrics | null;
  /** The runner's reason for a failed run. */
  reason: string | null;
  /** val_bpb of the current best; null for the baseline, which is kept whenever it runs. */
  best: number | null;
  /** A candidate must beat the best by more than this to be kept. */
  threshold: number;
}

/** Keep a candidate only when it ran cleanly and beat the best by more than the threshold. */
export function judge({ outcome, metrics, reason, best, threshold }: JudgeInput): Verdict {
  if (outcome !== 'ok' || metrics === null || !Number.isFinite(metrics.val_bpb)) {
    return { status: 'crash', reason: reason ?? `run ended with outcome ${outcome}` };
  }
  if (best === null) return { status: 'keep', reason: null };
  const gain = best - metrics.val_bpb;
  if (gain > threshold) return { status: 'keep', reason: null };
  const by = threshold > 0 ? ` by more than the threshold ${threshold}` : '';
  return {
    status: 'discard',
    reason: `val_bpb ${metrics.val_bpb.toFixed(6)} did not beat the best ${best.toFixed(6)}${by}`,
  };
}
