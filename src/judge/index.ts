import type { ExperimentStatus, Metrics, RunOutcome } from '../core/index.js';
import { keepMargin } from '../trust/index.js';

export interface Verdict {
  status: Extract<ExperimentStatus, 'keep' | 'discard' | 'crash'>;
  /** Why it was discarded or crashed; null when kept. */
  reason: string | null;
  /** A discard that beat the best, but by no more than k·σ: a win inside the noise. */
  insideNoise: boolean;
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
  /** This box's noise floor, when measured: the margin is then at least k·σ. */
  noise?: { sigma: number; k: number } | null;
}

/** Keep a candidate only when it ran cleanly and beat the best by more than the threshold and k·σ. */
export function judge({ outcome, metrics, reason, best, threshold, noise = null }: JudgeInput): Verdict {
  if (outcome !== 'ok' || metrics === null || !Number.isFinite(metrics.val_bpb)) {
    return { status: 'crash', reason: reason ?? `run ended with outcome ${outcome}`, insideNoise: false };
  }
  if (best === null) return { status: 'keep', reason: null, insideNoise: false };
  const floor = noise ? noise.k * noise.sigma : 0;
  const margin = keepMargin(threshold, noise);
  const gain = best - metrics.val_bpb;
  if (gain > margin) return { status: 'keep', reason: null, insideNoise: false };
  const got = `val_bpb ${metrics.val_bpb.toFixed(6)}`;
  if (gain > 0 && noise && gain <= floor) {
    return {
      status: 'discard', insideNoise: true,
      reason: `a win inside the noise: ${got} beat the best ${best.toFixed(6)} by ${gain.toFixed(6)}, not more than ${noise.k}·σ = ${floor.toFixed(6)} (σ ${noise.sigma.toFixed(6)})`,
    };
  }
  const by = margin > 0 ? ` by more than ${margin.toFixed(6)}` : '';
  return { status: 'discard', reason: `${got} did not beat the best ${best.toFixed(6)}${by}`, insideNoise: false };
}
