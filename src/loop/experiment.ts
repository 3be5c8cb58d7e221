import { TrainerError, type ExperimentRecord, type WorkerDevice } from '../core/index.js';
import { judge } from '../judge/index.js';
import { isTrivialError, type RunResult } from '../runner/index.js';
import { keepMargin } from '../trust/index.js';
import { displacedChange } from './candidates.js';
import { latestKeep } from './history.js';
import { expectedSeconds, type LoopState } from './state.js';

const MAX_ATTEMPTS = 2;

/** Marks a staged record running on a worker and stores it. Under the lock. */
export async function startExperiment(s: LoopState, staged: ExperimentRecord, worker: number): Promise<ExperimentRecord> {
  const hardware = await s.init.trainer.hardware();
  const running: ExperimentRecord = { ...staged, status: 'running', attempts: staged.attempts + 1, hardware, startedAt: new Date().toISOString() };
  await s.init.store.put(running);
  await s.refresh();
  s.created += 1;
  s.inFlight += 1;
  s.emit({ type: 'start', worker, record: running, expectedSeconds: expectedSeconds(s.records) });
  s.log.info(`#${running.seq} ${running.hypothesis}${s.workers.length > 1 ? ` (worker ${worker})` : ''}`);
  return running;
}

/** Trains a running record on the worker's device. */
export async function runExperiment(s: LoopState, device: WorkerDevice, record: ExperimentRecord): Promise<RunResult | 'aborted'> {
  const { workspace } = s.init;
  const source = await s.lock.run(async () => (record.commit ? workspace.source(record.commit) : (await workspace.best()).source));
  return s.train(device, source, `${String(record.seq).padStart(5, '0')}-${record.id}`, record.seq);
}

/** A run that did not end on its own merits (the node stopped, the box failed) resumes next start, not counted as an attempt. */
export function unstarted(s: LoopState, running: ExperimentRecord): Promise<void> {
  return s.init.store.put({ ...running, attempts: running.attempts - 1 });
}

/**
 * Judges a finished run against the best at the moment it finished (another worker may have kept
 * meanwhile), records it, then moves best. Under the lock. Returns the record when it crashed on a
 * trivial error worth one automatic repair.
 */
export async function concludeExperiment(s: LoopState, running: ExperimentRecord, result: RunResult, worker: number): Promise<ExperimentRecord | null> {
  const { threshold, proposer } = s.init;
  const isBaseline = running.origin.kind === 'baseline';
  const bestNow = isBaseline ? undefined : latestKeep(s.records);
  const bestBefore = bestNow?.metrics?.val_bpb ?? null;
  const floor = s.floor;
  const noise = floor?.sigma != null ? { sigma: floor.sigma, k: floor.k } : null;
  const verdict = judge({ outcome: result.outcome, metrics: result.metrics, reason: result.reason, best: bestBefore, threshold, noise });
  const done: ExperimentRecord = {
    ...running,
    status: verdict.status,
    reason: verdict.reason,
    ...(isBaseline ? {} : { margin: keepMargin(threshold, floor) }),
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
  await s.finish(done, worker);
  if (done.status === 'keep' && !isBaseline) await advanceBest(s, done, bestNow);
  if (isBaseline && done.status === 'crash') throw baselineFailed(done);
  return done.status === 'crash' && isTrivialError(result) && done.origin.kind === 'proposer' && proposer.repair !== undefined ? done : null;
}

/**
 * Moves best to a kept record. When another worker kept meanwhile, best is no longer the record's
 * parent; the record beat that newer best too (it was judged against it), so what it ran becomes
 * best, as a commit of its train.py on top of the current tip (history stays linear, and best is
 * exactly the code that was measured). The displaced winner's change is not lost: it is queued,
 * replayed onto the new best, to be measured there like any candidate.
 */
export async function advanceBest(s: LoopState, kept: ExperimentRecord, displaced?: ExperimentRecord): Promise<void> {
  const { workspace } = s.init;
  const tip = await workspace.best();
  if (kept.commit === null || tip.hash === kept.hash) return;
  if (kept.parentCommit === tip.commit) return workspace.keep(kept.commit);
  const source = await workspace.source(kept.commit);
  const moved = await workspace.stage(`${kept.id}-best`, source, `${kept.hypothesis}\n\nBest becomes the train.py of #${kept.seq}, which ran on ${kept.parentCommit?.slice(0, 7)} and beat ${tip.commit.slice(0, 7)}.`, tip);
  await workspace.keep(moved.commit);
  if (displaced && kept.parentCommit) {
    const parent = { commit: kept.parentCommit, hash: kept.parentHash, source: await workspace.source(kept.parentCommit) };
    s.queue.unshift(displacedChange(displaced, tip, parent, kept));
    s.log.info(`#${kept.seq} beat #${displaced.seq}, kept while it ran; #${displaced.seq}'s change goes again, on top of #${kept.seq}`);
  }
}

/** Puts the store and the workspace back in agreement after a node was killed, and finds runs to resume. */
export async function recover(s: LoopState): Promise<void> {
  const { store, workspace } = s.init;
  for (const r of s.records.filter((rec) => rec.status === 'running')) {
    if (r.attempts >= MAX_ATTEMPTS) {
      const reason = `interrupted ${r.attempts} times (the node stopped during the run); not retried`;
      await store.put({ ...r, status: 'crash', outcome: 'crash', reason, endedAt: new Date().toISOString() });
      s.log.warn(`#${r.seq} ${reason}`);
    } else {
      s.log.info(`#${r.seq} was interrupted; running it again`);
      s.resumable.push(r);
    }
  }
  const kept = latestKeep(s.records);
  if (kept?.commit && kept.origin.kind !== 'baseline' && kept.hash !== (await workspace.best()).hash) {
    s.log.warn(`#${kept.seq} was kept but the best branch had not moved yet; moving it now`);
    await advanceBest(s, kept);
  }
  await s.refresh();
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
