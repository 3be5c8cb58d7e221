import type { NoiseFloor, WorkerDevice } from '../core/index.js';
import { keepMargin, noiseSeeds, sampleSigma, type NoiseSettings } from '../trust/index.js';
import type { Version } from '../workspace/index.js';
import { latestKeep } from './history.js';
import { expectedSeconds, type LoopState } from './state.js';

/**
 * One measurement of the noise floor: the best re-run with fresh seeds to measure σ of val_bpb on
 * this box; from then on a candidate is kept only when it beats the best by more than k·σ. Its runs
 * go to whichever workers are free; experiments wait for the floor.
 */
export class NoiseMeasurement {
  readonly fresh: number[];
  readonly seeds: number[];
  readonly values: number[];
  private taken = 0;
  private ended = 0;

  constructor(readonly n: number, readonly best: Version, ownValue: number | null, runs: number) {
    this.fresh = noiseSeeds(n, runs);
    // The best's own run (seed 0 stands for train.py's default seed) is one sample: one run fewer to wait for.
    this.seeds = ownValue === null ? this.fresh : [0, ...this.fresh];
    this.values = ownValue === null ? [] : [ownValue];
  }

  /** The next seed to run, if any is left to hand out. */
  take(): number | undefined {
    return this.fresh[this.taken++];
  }

  /** Seeds not handed out yet. */
  get left(): number {
    return Math.max(0, this.fresh.length - this.taken);
  }

  get complete(): boolean {
    return this.ended === this.fresh.length;
  }

  /** A run ended (value null: it failed); true for the run that completes the measurement. */
  ran(value: number | null): boolean {
    this.ended += 1;
    if (value !== null) this.values.push(value);
    return this.complete;
  }
}

/** Starts a measurement of the current best. Under the lock. */
export async function startNoise(s: LoopState, settings: NoiseSettings): Promise<NoiseMeasurement> {
  const best = await s.init.workspace.best();
  const own = latestKeep(s.records);
  // A best measured by a peer (measuredBy) is no sample of this box's noise.
  const ownValue = own?.hash === best.hash && !own.measuredBy && own.metrics && Number.isFinite(own.metrics.val_bpb) ? own.metrics.val_bpb : null;
  const m = new NoiseMeasurement((s.floor?.n ?? 0) + 1, best, ownValue, settings.runs);
  const expected = expectedSeconds(s.records);
  const rounds = Math.ceil(m.fresh.length / s.workers.length);
  s.log.info(`measuring the noise floor: the best re-run ${m.fresh.length} times (seeds ${m.fresh.join(', ')})${expected ? `, ~${minutes(expected * rounds)}` : ''}; experiments start after it`);
  return m;
}

/** Runs one seed of a measurement on a worker: 'last' when it completed the measurement. */
export async function noiseRun(s: LoopState, m: NoiseMeasurement, seed: number, device: WorkerDevice): Promise<'aborted' | 'ran' | 'last'> {
  const i = m.fresh.indexOf(seed);
  const label = `noise run ${i + 1} of ${m.fresh.length} (seed ${seed})`;
  const { worker } = device;
  s.emit({ type: 'run', worker, kind: 'noise', label, expectedSeconds: expectedSeconds(s.records) });
  const then = s.records.some((r) => r.origin.kind !== 'baseline' && r.outcome !== null) ? 'the next experiment' : 'the first experiment';
  const left = m.left;
  const n = m.fresh.length;
  const text = left > 0 ? `${left === 1 ? `noise run ${n}` : `noise runs ${n - left + 1}–${n}`} of ${n}, then ${then}` : then;
  s.emit({ type: 'next', worker, text, runsBefore: left });
  const result = await s.train(device, m.best.source, `noise-${String(m.n).padStart(3, '0')}-seed${seed}`, 0, seed);
  if (result === 'aborted') return result;
  const value = result.outcome === 'ok' && result.metrics && Number.isFinite(result.metrics.val_bpb) ? result.metrics.val_bpb : null;
  const last = m.ran(value);
  s.emit({ type: 'ran', worker, kind: 'noise', label, outcome: result.outcome, valBpb: value });
  if (value !== null) s.log.info(`${label}: val_bpb ${value.toFixed(6)}`);
  else s.log.warn(`${label} failed (${result.reason}); left out of σ`);
  return last ? 'last' : 'ran';
}

/** Stores and shares a complete measurement; the new floor is in force from now. Under the lock. */
export async function endNoise(s: LoopState, m: NoiseMeasurement, settings: NoiseSettings): Promise<void> {
  const sigma = sampleSigma(m.values);
  const measured: NoiseFloor = {
    v: 1, n: m.n, hash: m.best.hash, seeds: m.seeds, values: m.values, sigma, k: settings.k, hardware: await s.init.trainer.hardware(),
    afterSeq: s.records.at(-1)?.seq ?? 0, at: new Date().toISOString(),
  };
  await s.init.store.putNoise(measured);
  // Too few finished runs say nothing about σ: the previous floor stays in force.
  if (sigma !== null || s.floor === undefined) s.floor = measured;
  s.log.info(sigma === null
    ? `noise floor not measured: only ${m.values.length} of ${m.seeds.length} runs finished`
    : `noise floor: σ ${sigma.toFixed(6)} over ${m.values.length} runs; a candidate must now beat the best by more than ${keepMargin(s.init.threshold, s.floor).toFixed(6)}`);
  await s.init.swarm?.measured(measured).catch((err: unknown) => s.log.warn(`noise floor not shared: ${(err as Error).message}`));
}

export function minutes(seconds: number): string {
  return seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}
