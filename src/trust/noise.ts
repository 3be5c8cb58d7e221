import type { ExperimentRecord, NoiseFloor } from '../core/index.js';
import type { Fact, NoiseFact } from './facts.js';

/** How a node measures its noise floor. */
export interface NoiseSettings {
  /** Seeded re-runs of the best per measurement, besides the best's own run; 0 turns the noise floor off. */
  runs: number;
  /** Measure again after this many finished experiments. */
  every: number;
  /** A candidate must beat the best by more than k·σ. */
  k: number;
}

/** Sample standard deviation (n − 1); null for fewer than two values. */
export function sampleSigma(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return Math.sqrt(ss / (values.length - 1));
}

/** The gain a candidate needs to be kept: the fixed threshold or k·σ, whichever is larger. */
export function keepMargin(threshold: number, floor: Pick<NoiseFloor, 'sigma' | 'k'> | null | undefined): number {
  return Math.max(threshold, floor?.sigma != null ? floor.k * floor.sigma : 0);
}

/** Seeds of measurement n: fresh ones each time, so repeated measurements are independent samples. */
export function noiseSeeds(n: number, runs: number): number[] {
  return Array.from({ length: runs }, (_, i) => 1000 * n + i + 1);
}

/**
 * True when the floor should be measured now: none yet, or `every` runs finished since the last one
 * (counting `pending` runs not finished yet, to tell what comes after the run in flight).
 */
export function noiseDue(records: readonly ExperimentRecord[], floor: NoiseFloor | undefined, settings: NoiseSettings, pending = 0): boolean {
  if (settings.runs < 1) return false;
  if (floor === undefined) return true;
  const ran = records.filter((r) => r.seq > floor.afterSeq && (r.status === 'keep' || r.status === 'discard' || r.status === 'crash')).length;
  return ran + pending >= settings.every;
}

/** This box's latest measurement that gave a σ (one with too few finished runs says nothing). */
export function latestFloor(floors: readonly NoiseFloor[]): NoiseFloor | undefined {
  return floors.filter((f) => f.sigma !== null).at(-1);
}

/** The latest σ a peer shared in its `noise` records; null when it shared none. */
export function sharedSigma(records: readonly Fact[], peer: string | null): number | null {
  const floors = records.filter((r): r is NoiseFact => r.type === 'noise' && r.peer === peer && r.sigma !== null);
  return floors.sort((a, b) => a.seq - b.seq).at(-1)?.sigma ?? null;
}
