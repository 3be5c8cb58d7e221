import { mkdir } from 'node:fs/promises';
import type { Proposer } from '../agent/index.js';
import {
  ProposalError, TrainerError, silentLogger,
  type Dataset, type ExperimentRecord, type HistoryEntry, type Logger, type NoiseFloor, type Origin,
} from '../core/index.js';
import { judge } from '../judge/index.js';
import { isTrivialError, type RunResult, type Trainer } from '../runner/index.js';
import { pathInside, type Store } from '../store/index.js';
import { keepMargin, noiseDue, noiseSeeds, sampleSigma, type NoiseSettings } from '../trust/index.js';
import type { Staged, Version, Workspace } from '../workspace/index.js';
import { latestKeep, toHistory, triedHashes } from './history.js';
import { newId } from './ids.js';
import { runFolderName } from './run-folder.js';

export interface LoopInit {
  store: Store;
  workspace: Workspace;
  trainer: Trainer;
  proposer: Proposer;
  /** The human's instructions (program.md). */
  program: string;
  dataset: Dataset;
  budget: number;
  /** Set under a tokens budget: tokens per run, recorded with each experiment. */
  budgetTokens?: number;
  threshold: number;
  /** Measure this box's noise floor and keep only wins beyond k·σ; omitted or runs < 2: no noise floor. */
  noise?: NoiseSettings;
  /** Each run gets a folder here holding its train.py and log. */
  runsDir: string;
  /** Records to create in this invocation (runs and invalid proposals alike); null runs until aborted. */
  maxExperiments: number | null;
  log?: Logger;
  onEvent?: (event: LoopEvent) => void;
  /** Aborting stops the loop: the run in flight is killed and resumed on the next start. */
  signal?: AbortSignal;
  /** The swarm, when the node has joined one: peers' candidates in, vetoes, results out. */
  swarm?: SwarmHooks;
}

/** A peer's change, brought over and ready to be rebased onto this node's best. */
export interface PeerCandidate extends Candidate {
  lineage: string[];
  /** Set when the change must not run here (refused by the screen or the trust policy). */
  refused: string | null;
}

/** What the loop asks of the swarm; the loop works the same without one. */
export interface SwarmHooks {
  /** The next candidate from peers, taken before a fresh proposal. */
  next(): Promise<PeerCandidate | undefined>;
  /** Why a staged candidate must not run (already tried or being run elsewhere), or null after claiming it. */
  admit(record: ExperimentRecord): Promise<string | null>;
  /** Shares a finished experiment. */
  recorded(record: ExperimentRecord): Promise<void>;
  /** Hashes of every train.py peers have run, and their results, for the proposers. */
  tried(): Promise<Set<string>>;
  history(): Promise<HistoryEntry[]>;
  /** A result to re-run here before the next candidate (replication), if any. */
  replication(): Promise<Replication | undefined>;
  /** Shares what re-running it measured. */
  replicated(task: Replication, result: RunResult): Promise<void>;
  /** Shares this box's new noise floor. */
  measured(floor: NoiseFloor): Promise<void>;
}

/** A claimed result to re-run exactly as it was (same train.py, default seed) and compare. */
export interface Replication {
  /** The claimant's peer id and its experiment id. */
  peer: string;
  experiment: string;
  hash: string;
  /** null when there is no val_bpb to compare with (`swarm verify` of a crashed run). */
  claimed: number | null;
  source: string;
}

/**
 * What the loop is doing, for the terminal, `swarm status` and the dashboard. An experiment runs
 * between `start` and `finish`; a noise or replication run (not an experiment) between `run` and
 * `ran`. `progress` is the run in flight (seq 0 outside experiments); `next` says what comes after it.
 */
export type LoopEvent = (
  | { type: 'start'; record: ExperimentRecord; expectedSeconds: number | null }
  | { type: 'run'; kind: 'noise' | 'replication'; label: string; expectedSeconds: number | null }
  | { type: 'progress'; seq: number; step: number; loss: number; elapsedSeconds: number; fraction: number | null }
  | { type: 'finish'; record: ExperimentRecord }
  | { type: 'ran'; kind: 'noise' | 'replication'; label: string; outcome: string; valBpb: number | null }
  /** `runsBefore`: whole runs between the end of the run in flight and the start of the last thing `text` names. */
  | { type: 'next'; text: string | null; runsBefore: number }
) & {
  /** The worker (0-based) the event comes from: one per accelerator, or per `--workers` slot on CPU. */
  worker: number;
};

export interface LoopReport {
  /** Records created in this invocation. */
  created: number;
  best: ExperimentRecord | undefined;
}

/** A train.py ready to be staged: where it came from and what it was written against. */
interface Candidate {
  hypothesis: string;
  source: string;
  origin: Origin;
  parent: Version;
  /** Experiments whose changes it brings besides its own (a peer's lineage). */
  lineage?: string[];
  refused?: string | null;
}

const MAX_ATTEMPTS = 2;

/**
 * The autoresearch loop: propose → run → judge → record, forever or for maxExperiments.
 * The next proposal is drafted while the current candidate trains, so an LLM's think time
 * does not leave the accelerator idle.
 */
export async function runLoop(init: LoopInit): Promise<LoopReport> {
  const { store, workspace, trainer, proposer, log = silentLogger, signal, swarm } = init;
  const emit = init.onEvent ?? (() => {});
  const max = init.maxExperiments ?? Infinity;
  await mkdir(init.runsDir, { recursive: true });

  const hardware = await trainer.hardware();
  let records = await store.list();
  let nextSeq = (records.at(-1)?.seq ?? 0) + 1;
  let created = 0;

  const resumable = await recover();
  records = await store.list();
  let floor: NoiseFloor | undefined = (await store.noiseFloors()).at(-1);

  // The very first run of a node is the unmodified baseline.
  if (latestKeep(records) === undefined && !resumable.some((r) => r.origin.kind === 'baseline')) {
    const base = await workspace.best();
    resumable.unshift(newRecord(nextSeq++, { hypothesis: 'baseline', source: base.source, origin: { kind: 'baseline', proposer: 'baseline' }, parent: base }, base));
  }

  let drafting: Promise<Candidate | ExperimentRecord> | null = null;
  const queue: Candidate[] = [];
  const draftNext = () => {
    if (drafting === null && queue.length === 0 && created + resumable.length < max) drafting = draft();
  };

  while (created < max && !signal?.aborted) {
    let staged: ExperimentRecord;
    const resumed = resumable.shift();
    if (resumed) {
      staged = resumed;
    } else {
      if (init.noise && noiseDue(records, floor, init.noise)) {
        if (!(await measureNoise(init.noise))) break;
        continue;
      }
      const task = await swarm?.replication();
      if (task) {
        if (!(await replicate(task))) break;
        continue;
      }
      const fromQueue = queue.shift() ?? (await swarm?.next());
      const next: Candidate | ExperimentRecord = fromQueue ?? (await (drafting ??= draft()));
      if (!fromQueue) drafting = null;
      if (signal?.aborted) break;
      if ('v' in next) {
        await finish(next);
        continue;
      }
      const ready = await stage(next);
      if (ready.status === 'invalid' || ready.status === 'skip') {
        await finish(ready);
        continue;
      }
      staged = ready;
    }

    const isBaseline = staged.origin.kind === 'baseline';
    const running: ExperimentRecord = { ...staged, status: 'running', attempts: staged.attempts + 1, hardware, startedAt: new Date().toISOString() };
    await store.put(running);
    records = await store.list();
    created += 1;
    emit({ type: 'start', record: running, expectedSeconds: expectedSeconds(records), worker: 0 });
    emit({ type: 'next', text: nextText(), runsBefore: 0, worker: 0 });
    log.info(`#${running.seq} ${running.hypothesis}`);
    draftNext();

    const result = await runCandidate(running).catch(async (err: unknown) => {
      // The box failed, not the candidate (its data cannot be built, a disk refused): the run resumes
      // next start, not counted as an attempt. A store that fails too must not hide the first error.
      await store.put({ ...running, attempts: running.attempts - 1 }).catch(() => {});
      throw err;
    });
    if (result === 'aborted') {
      // The user stopped the node: the run is not the candidate's fault, so it resumes next start.
      await store.put({ ...running, attempts: running.attempts - 1 });
      break;
    }
    const bestBefore = isBaseline ? null : latestKeep(records)?.metrics?.val_bpb ?? null;
    const noise = floor?.sigma != null ? { sigma: floor.sigma, k: floor.k } : null;
    const verdict = judge({
      outcome: result.outcome, metrics: result.metrics, reason: result.reason, best: bestBefore, threshold: init.threshold, noise,
    });
    const done: ExperimentRecord = {
      ...running,
      status: verdict.status,
      reason: verdict.reason,
      ...(isBaseline ? {} : { margin: keepMargin(init.threshold, floor) }),
      ...(verdict.insideNoise ? { insideNoise: true } : {}),
      outcome: result.outcome,
      metrics: result.metrics,
      ...(result.metrics ? { printedValBpb: result.printedValBpb } : {}),
      ...(result.peakMemoryMb != null ? { peakMemoryMb: result.peakMemoryMb } : {}),
      ...(result.selfReported ? { selfReported: true as const } : {}),
      bestBefore,
      endedAt: result.endedAt,
      logTail: result.outcome === 'ok' ? [] : result.logTail,
      logPath: result.logPath,
    };
    // Record first, then move the branch: a crash between the two is repaired by recover().
    await finish(done);
    if (done.status === 'keep' && done.commit !== null && !isBaseline) await workspace.keep(done.commit);
    if (isBaseline && done.status === 'crash') throw baselineFailed(done);
    if (done.status === 'crash' && isTrivialError(result) && done.origin.kind === 'proposer' && proposer.repair) {
      await repairRun(done);
    }
  }

  return { created, best: latestKeep(await store.list()) };

  /** Puts the store and the workspace back in agreement after a node was killed, and finds runs to resume. */
  async function recover(): Promise<ExperimentRecord[]> {
    const resume: ExperimentRecord[] = [];
    for (const r of records.filter((rec) => rec.status === 'running')) {
      if (r.attempts >= MAX_ATTEMPTS) {
        const reason = `interrupted ${r.attempts} times (the node stopped during the run); not retried`;
        await store.put({ ...r, status: 'crash', outcome: 'crash', reason, endedAt: new Date().toISOString() });
        log.warn(`#${r.seq} ${reason}`);
      } else {
        log.info(`#${r.seq} was interrupted; running it again`);
        resume.push(r);
      }
    }
    const kept = latestKeep(records);
    const tip = await workspace.best();
    if (kept?.commit && kept.commit !== tip.commit && kept.origin.kind !== 'baseline') {
      log.warn(`#${kept.seq} was kept but the best branch had not moved yet; moving it now`);
      await workspace.keep(kept.commit);
    }
    return resume;
  }

  /** What the proposers are told: this node's and the swarm's experiments, and every train.py already run. */
  async function context(source: string) {
    const triedHere = new Set(triedHashes(records).keys());
    const tried = new Set([...triedHere, ...((await swarm?.tried()) ?? [])]);
    const history = [...((await swarm?.history()) ?? []), ...toHistory(records)];
    return { program: init.program, source, history, tried, triedHere, ...(signal ? { signal } : {}) };
  }

  /** Asks the proposer for the next candidate against the current best; a failure becomes an invalid record. */
  async function draft(): Promise<Candidate | ExperimentRecord> {
    const parent = await workspace.best();
    try {
      const p = await proposer.propose(await context(parent.source));
      return { hypothesis: p.hypothesis, source: p.source, origin: { kind: 'proposer', proposer: p.proposer }, parent };
    } catch (err) {
      return invalid(err, parent, { kind: 'proposer', proposer: proposer.name });
    }
  }

  /** Commits a candidate onto the current best (rebasing it if the best moved while it was drafted). */
  async function stage(c: Candidate): Promise<ExperimentRecord> {
    const id = newId();
    if (c.refused) {
      return { ...newRecord(nextSeq++, c, c.parent, id), status: 'invalid', reason: c.refused, endedAt: new Date().toISOString() };
    }
    let staged: Staged = await workspace.stage(id, c.source, c.hypothesis, c.parent);
    const best = await workspace.best();
    if (staged.parent.commit !== best.commit) {
      // Drafted while the previous candidate trained and won: replay the change onto the new best.
      const rebased = await workspace.rebase(staged.commit, best);
      if (!rebased.ok) {
        return { ...newRecord(nextSeq++, c, c.parent, id), status: 'invalid', commit: staged.commit, diff: staged.diff, reason: `conflicts with the new best: ${rebased.conflict}`, endedAt: new Date().toISOString() };
      }
      staged = rebased.staged;
    }
    const seen = triedHashes(records).get(staged.hash);
    const record = { ...newRecord(nextSeq++, c, staged.parent, id), hash: staged.hash, commit: staged.commit, diff: staged.diff };
    if (seen !== undefined) {
      return { ...record, status: 'skip', reason: `identical to #${seen}, already tried here`, endedAt: new Date().toISOString() };
    }
    // The swarm vetoes only duplicates: a peer ran this change already or is running it now.
    const veto = await swarm?.admit(record);
    if (veto) return { ...record, status: 'skip', reason: veto, endedAt: new Date().toISOString() };
    return record;
  }

  async function runCandidate(record: ExperimentRecord): Promise<RunResult | 'aborted'> {
    const source = record.commit ? await workspace.source(record.commit) : (await workspace.best()).source;
    return train(source, `${String(record.seq).padStart(5, '0')}-${record.id}`, record.seq);
  }

  async function train(source: string, folder: string, seq: number, seed?: number): Promise<RunResult | 'aborted'> {
    try {
      return await trainer.run({
        source, runDir: await pathInside(init.runsDir, folder),
        onProgress: (p) => emit({ type: 'progress', seq, step: p.step, loss: p.loss, elapsedSeconds: p.elapsedSeconds, fraction: p.fraction, worker: 0 }),
        ...(seed === undefined ? {} : { seed }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      // The runner rejects with the abort reason when the node is stopped; anything else is a real failure.
      if (signal?.aborted) return 'aborted';
      throw err;
    }
  }

  /**
   * Runs the current best with fresh seeds to measure σ of val_bpb on this box; from then on a
   * candidate is kept only when it beats the best by more than k·σ. False when the node was stopped.
   */
  async function measureNoise(settings: NoiseSettings): Promise<boolean> {
    const best = await workspace.best();
    const n = (floor?.n ?? 0) + 1;
    // The best's own run (seed 0 stands for train.py's default seed) is one sample: one run fewer to wait for.
    const own = latestKeep(records);
    const ownValue = own?.hash === best.hash && own.metrics && Number.isFinite(own.metrics.val_bpb) ? own.metrics.val_bpb : null;
    const fresh = noiseSeeds(n, settings.runs);
    const seeds = ownValue === null ? fresh : [0, ...fresh];
    const values: number[] = ownValue === null ? [] : [ownValue];
    const expected = expectedSeconds(records);
    log.info(`measuring the noise floor: the best re-run ${fresh.length} times (seeds ${fresh.join(', ')})${expected ? `, ~${minutes(expected * fresh.length)}` : ''}; experiments start after it`);
    for (const [i, seed] of fresh.entries()) {
      const label = `noise run ${i + 1} of ${fresh.length} (seed ${seed})`;
      emit({ type: 'run', kind: 'noise', label, expectedSeconds: expected, worker: 0 });
      const then = records.some((r) => r.origin.kind !== 'baseline' && r.outcome !== null) ? 'the next experiment' : 'the first experiment';
      const left = fresh.length - i - 1;
      emit({ type: 'next', text: left > 0 ? `${left === 1 ? `noise run ${fresh.length}` : `noise runs ${i + 2}–${fresh.length}`} of ${fresh.length}, then ${then}` : then, runsBefore: left, worker: 0 });
      const result = await train(best.source, `noise-${String(n).padStart(3, '0')}-seed${seed}`, 0, seed);
      if (result === 'aborted') return false;
      const ok = result.outcome === 'ok' && result.metrics && Number.isFinite(result.metrics.val_bpb);
      if (ok) values.push(result.metrics!.val_bpb);
      emit({ type: 'ran', kind: 'noise', label, outcome: result.outcome, valBpb: ok ? result.metrics!.val_bpb : null, worker: 0 });
      if (ok) log.info(`${label}: val_bpb ${result.metrics!.val_bpb.toFixed(6)}`);
      else log.warn(`${label} failed (${result.reason}); left out of σ`);
    }
    const sigma = sampleSigma(values);
    const measured: NoiseFloor = {
      v: 1, n, hash: best.hash, seeds, values, sigma, k: settings.k, hardware,
      afterSeq: records.at(-1)?.seq ?? 0, at: new Date().toISOString(),
    };
    await store.putNoise(measured);
    // Too few finished runs say nothing about σ: the previous floor stays in force.
    if (sigma !== null || floor === undefined) floor = measured;
    log.info(sigma === null
      ? `noise floor not measured: only ${values.length} of ${seeds.length} runs finished`
      : `noise floor: σ ${sigma.toFixed(6)} over ${values.length} runs; a candidate must now beat the best by more than ${keepMargin(init.threshold, floor).toFixed(6)}`);
    await swarm?.measured(measured).catch((err: unknown) => log.warn(`noise floor not shared: ${(err as Error).message}`));
    return true;
  }

  /** Re-runs a peer's claimed result and hands the measurement to the swarm. False when the node was stopped. */
  async function replicate(task: Replication): Promise<boolean> {
    const label = `replicating ${task.experiment} of peer ${task.peer.slice(-8)} (claimed val_bpb ${task.claimed?.toFixed(6) ?? 'none'})`;
    log.info(label);
    emit({ type: 'run', kind: 'replication', label, expectedSeconds: expectedSeconds(records), worker: 0 });
    emit({ type: 'next', text: nextText(), runsBefore: 0, worker: 0 });
    const result = await train(task.source, runFolderName('verify', task.peer, task.experiment), 0);
    if (result === 'aborted') return false;
    emit({ type: 'ran', kind: 'replication', label, outcome: result.outcome, valBpb: result.metrics?.val_bpb ?? null, worker: 0 });
    await swarm!.replicated(task, result).catch((err: unknown) => log.warn(`replication of ${task.experiment} not shared: ${(err as Error).message}`));
    return true;
  }

  /** One automatic repair of a run that died on a trivial error (a typo, a missing import). */
  async function repairRun(failed: ExperimentRecord): Promise<void> {
    const parent = await workspace.best();
    const failedSource = failed.commit ? await workspace.source(failed.commit) : parent.source;
    try {
      const p = await proposer.repair!(
        await context(parent.source),
        { failed: { hypothesis: failed.hypothesis, source: failedSource, proposer: failed.origin.proposer }, error: failed.logTail.join('\n') },
      );
      log.info(`#${failed.seq} died on a trivial error; trying the repaired version next`);
      queue.unshift({ hypothesis: p.hypothesis, source: p.source, origin: { kind: 'repair', proposer: p.proposer }, parent });
    } catch (err) {
      log.warn(`#${failed.seq} could not be repaired: ${(err as Error).message}`);
    }
  }

  /** What comes after the run that starts now, as far as the loop can tell. */
  function nextText(): string | null {
    if (created >= max) return null;
    const resumed = resumable[0];
    if (resumed) return `#${resumed.seq} ${resumed.hypothesis} (resumed)`;
    if (init.noise && noiseDue(records, floor, init.noise, 1)) {
      return `a noise floor measurement (${init.noise.runs} runs of the best), then experiments`;
    }
    const queued = queue[0];
    return queued ? `${queued.hypothesis} (${queued.origin.kind})` : "the next experiment (a peer's change, a replication or a new proposal)";
  }

  function invalid(err: unknown, parent: Version, origin: Origin): ExperimentRecord {
    // One line, no stack: it is often a consequence (a store closed because the node is stopping on a full disk).
    if (!(err instanceof ProposalError)) log.error(`proposer failed unexpectedly: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    const reason = err instanceof Error ? err.message : String(err);
    return { ...newRecord(nextSeq++, { hypothesis: '(no proposal)', source: parent.source, origin, parent }, parent), status: 'invalid', reason, endedAt: new Date().toISOString() };
  }

  async function finish(record: ExperimentRecord): Promise<void> {
    await store.put(record);
    records = await store.list();
    if (record.status === 'invalid') {
      created += 1;
      log.warn(`#${record.seq} not run: ${record.reason}`);
    } else if (record.status === 'skip') {
      // A duplicate is not an experiment: it does not count against --max-experiments.
      log.info(`#${record.seq} skipped (${record.hypothesis}): ${record.reason}`);
    }
    emit({ type: 'finish', record, worker: 0 });
    // Sharing must never cost a result: the record is already stored, and sync retries later.
    await swarm?.recorded(record).catch((err: unknown) => log.warn(`#${record.seq} not shared: ${(err as Error).message}`));
  }

  function newRecord(seq: number, c: Candidate, parent: Version, id = newId()): ExperimentRecord {
    const isBaseline = c.origin.kind === 'baseline';
    const lineage = [...new Set([...(latestKeep(records)?.lineage ?? []), ...(c.lineage ?? []), id])];
    return {
      lineage,
      v: 1, id, seq, status: 'running', hypothesis: c.hypothesis, origin: c.origin,
      parentHash: parent.hash, hash: isBaseline ? parent.hash : null,
      parentCommit: parent.commit, commit: isBaseline ? parent.commit : null,
      diff: '', outcome: null, reason: null, metrics: null, bestBefore: null,
      hardware: null, dataset: init.dataset, budgetSeconds: init.budget,
      ...(init.budgetTokens !== undefined ? { budgetTokens: init.budgetTokens } : {}),
      attempts: 0, startedAt: new Date().toISOString(), endedAt: null, logTail: [], logPath: null,
    };
  }
}

/** How long a run took here lately (median of the last five experiments' wall time), for "what comes when". */
function expectedSeconds(records: readonly ExperimentRecord[]): number | null {
  const spans = records
    .filter((r) => r.outcome === 'ok' && r.endedAt !== null)
    .slice(-5)
    .map((r) => (Date.parse(r.endedAt!) - Date.parse(r.startedAt)) / 1000)
    .filter((s) => Number.isFinite(s) && s > 0)
    .sort((a, b) => a - b);
  return spans.length === 0 ? null : spans[Math.floor(spans.length / 2)]!;
}

function minutes(seconds: number): string {
  return seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

/**
 * The unmodified baseline cannot fail on its own merits, so its crash is this box's environment
 * (packages, data, the fence): the node stops with what the run said instead of judging anything.
 */
function baselineFailed(done: ExperimentRecord): TrainerError {
  return new TrainerError(`the baseline train.py (unmodified) failed on this box, so nothing can be judged: ${done.reason}`, {
    hint: `the last lines of ${done.logPath ?? 'the run log'} say why; \`npx swarm show ${done.seq}\` prints them`,
  });
}
