import {
  ProposalError, silentLogger,
  type ExperimentRecord, type Logger, type NoiseFloor, type Origin, type WorkerDevice,
} from '../core/index.js';
import type { RunResult } from '../runner/index.js';
import { pathInside } from '../store/index.js';
import type { Version } from '../workspace/index.js';
import { latestKeep } from './history.js';
import { newId } from './ids.js';
import { Mutex, Wake } from './lock.js';
import type { NoiseMeasurement } from './noise.js';
import type { Candidate, LoopEvent, LoopInit } from './types.js';

/** What every worker of one loop shares. Mutations of the store and workspace go through `lock`. */
export class LoopState {
  readonly log: Logger;
  readonly max: number;
  readonly lock = new Mutex();
  readonly wake = new Wake();
  /** Stops every worker: the user's signal, or the first failure of the box (then `failure` says why). */
  readonly stop = new AbortController();
  failure: unknown = undefined;
  records: ExperimentRecord[] = [];
  nextSeq = 1;
  /** Records counted against maxExperiments in this invocation (runs started, invalid proposals). */
  created = 0;
  floor: NoiseFloor | undefined;
  /** Interrupted runs to run again, the baseline first when there is none yet. */
  resumable: ExperimentRecord[] = [];
  /** Candidates that go before fresh proposals (repairs, a displaced winner's change). */
  queue: Candidate[] = [];
  /** Proposals drafted ahead, while runs train. */
  drafts: Promise<Candidate | ExperimentRecord>[] = [];
  /** Runs training now (experiments, noise and replication runs). */
  inFlight = 0;
  /** The noise floor measurement under way: experiments wait for it. */
  noise: NoiseMeasurement | null = null;
  /** Replications being run now (peer/experiment), so no two workers take the same one. */
  replicating = new Set<string>();

  constructor(readonly init: LoopInit, readonly workers: readonly WorkerDevice[]) {
    this.log = init.log ?? silentLogger;
    this.max = init.maxExperiments ?? Infinity;
    const abort = () => this.stop.abort(init.signal!.reason);
    if (init.signal?.aborted) abort();
    else init.signal?.addEventListener('abort', abort, { once: true });
  }

  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  emit(event: LoopEvent): void {
    this.init.onEvent?.(event);
  }

  hasBest(): boolean {
    return latestKeep(this.records) !== undefined;
  }

  /** Ends every worker because the box failed; the loop rethrows the first such error. */
  fail(err: unknown): void {
    if (this.failure === undefined) this.failure = err;
    this.stop.abort(err);
    this.wake.notify();
  }

  async refresh(): Promise<void> {
    this.records = await this.init.store.list();
  }

  /** Stores a record that ends here (a result, an invalid proposal, a skip) and shares it. Under the lock. */
  async finish(record: ExperimentRecord, worker: number): Promise<void> {
    await this.init.store.put(record);
    await this.refresh();
    if (record.status === 'invalid') {
      this.created += 1;
      this.log.warn(`#${record.seq} not run: ${record.reason}`);
    } else if (record.status === 'skip') {
      // A duplicate is not an experiment: it does not count against --max-experiments.
      this.log.info(`#${record.seq} skipped (${record.hypothesis}): ${record.reason}`);
    }
    this.emit({ type: 'finish', worker, record });
    // Sharing must never cost a result: the record is already stored, and sync retries later.
    await this.init.swarm?.recorded(record).catch((err: unknown) => this.log.warn(`#${record.seq} not shared: ${(err as Error).message}`));
  }

  /** One training run on a worker's device; 'aborted' when the node is stopping. */
  async train(device: WorkerDevice, source: string, folder: string, seq: number, seed?: number): Promise<RunResult | 'aborted'> {
    const { signal } = this.stop;
    try {
      return await this.init.trainer.run({
        source, runDir: await pathInside(this.init.runsDir, folder), device, signal,
        onProgress: (p) => this.emit({ type: 'progress', worker: device.worker, seq, step: p.step, loss: p.loss, elapsedSeconds: p.elapsedSeconds, fraction: p.fraction }),
        ...(seed === undefined ? {} : { seed }),
      });
    } catch (err) {
      // The runner rejects with the abort reason when the node is stopped; anything else is a real failure.
      if (signal.aborted) return 'aborted';
      throw err;
    }
  }

  newRecord(c: Candidate, parent: Version, id = newId()): ExperimentRecord {
    const isBaseline = c.origin.kind === 'baseline';
    const lineage = [...new Set([...(latestKeep(this.records)?.lineage ?? []), ...(c.lineage ?? []), id])];
    const { init } = this;
    return {
      lineage,
      v: 1, id, seq: this.nextSeq++, status: 'running', hypothesis: c.hypothesis, origin: c.origin,
      parentHash: parent.hash, hash: isBaseline ? parent.hash : null,
      parentCommit: parent.commit, commit: isBaseline ? parent.commit : null,
      diff: '', outcome: null, reason: null, metrics: null, bestBefore: null,
      hardware: null, dataset: init.dataset, budgetSeconds: init.budget,
      ...(init.budgetTokens !== undefined ? { budgetTokens: init.budgetTokens } : {}),
      attempts: 0, startedAt: new Date().toISOString(), endedAt: null, logTail: [], logPath: null,
      ...(c.agent ? { agent: c.agent } : {}),
    };
  }

  invalid(err: unknown, parent: Version, origin: Origin): ExperimentRecord {
    // One line, no stack: it is often a consequence (a store closed because the node is stopping on a full disk).
    if (!(err instanceof ProposalError)) this.log.error(`proposer failed unexpectedly: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    const reason = err instanceof Error ? err.message : String(err);
    const agent = err instanceof ProposalError ? err.agent : undefined;
    return { ...this.newRecord({ hypothesis: '(no proposal)', source: parent.source, origin, parent, ...(agent ? { agent } : {}) }, parent), status: 'invalid', reason, endedAt: new Date().toISOString() };
  }
}

/** How long a run took here lately (median of the last five experiments' wall time), for "what comes when". */
export function expectedSeconds(records: readonly ExperimentRecord[]): number | null {
  const spans = records
    .filter((r) => r.outcome === 'ok' && r.endedAt !== null)
    .slice(-5)
    .map((r) => (Date.parse(r.endedAt!) - Date.parse(r.startedAt)) / 1000)
    .filter((s) => Number.isFinite(s) && s > 0)
    .sort((a, b) => a - b);
  return spans.length === 0 ? null : spans[Math.floor(spans.length / 2)]!;
}
