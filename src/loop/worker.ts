import type { ExperimentRecord, WorkerDevice } from '../core/index.js';
import { claimKey, noiseDue } from '../trust/index.js';
import { draftAhead, nextDraft, repair, stage } from './candidates.js';
import { advanceBest, concludeExperiment, runExperiment, startExperiment, unstarted } from './experiment.js';
import { endNoise, noiseRun, startNoise, type NoiseMeasurement } from './noise.js';
import { replicate } from './replicate.js';
import type { LoopState } from './state.js';
import type { Candidate, Replication } from './types.js';

/** What a worker does next, decided under the lock. */
type Job =
  | { kind: 'experiment'; record: ExperimentRecord }
  | { kind: 'noise'; measurement: NoiseMeasurement; seed: number }
  | { kind: 'replication'; task: Replication }
  /** A proposal is drafting: await it outside the lock, then stage it. */
  | { kind: 'draft'; draft: Promise<Candidate | ExperimentRecord> }
  /** Take another look at once (a candidate was skipped or invalid). */
  | { kind: 'again' }
  /** Nothing to start until a run in flight ends (the baseline, the noise floor). */
  | { kind: 'wait'; epoch: number }
  | { kind: 'stop' };
type Ready = Exclude<Job, { kind: 'draft' }>;

/** One worker: takes the next job, runs it on its device, concludes it; until the loop is done or stopped. */
export async function worker(s: LoopState, device: WorkerDevice): Promise<void> {
  try {
    while (!s.stopped) {
      const taken = await s.lock.run(() => takeJob(s, device.worker));
      let job: Ready;
      if (taken.kind === 'draft') {
        const next = await taken.draft;
        job = await s.lock.run(() => useDraft(s, next, device.worker));
      } else {
        job = taken;
      }
      if (job.kind === 'stop') break;
      if (job.kind === 'wait') await s.wake.wait(s.stop.signal, job.epoch);
      else if (job.kind !== 'again') await perform(s, device, job);
    }
  } catch (err) {
    s.fail(err);
  } finally {
    s.wake.notify();
  }
}

async function perform(s: LoopState, device: WorkerDevice, job: Exclude<Ready, { kind: 'again' | 'wait' | 'stop' }>): Promise<void> {
  if (job.kind === 'experiment') return experiment(s, device, job.record);
  s.inFlight += 1;
  try {
    if (job.kind === 'noise') {
      const { measurement: m } = job;
      if ((await noiseRun(s, m, job.seed, device)) === 'last') await s.lock.run(() => endNoise(s, m, s.init.noise!));
    } else {
      await replicate(s, job.task, device);
    }
  } finally {
    if (job.kind === 'noise' && s.noise === job.measurement && (job.measurement.complete || s.stopped)) s.noise = null;
    if (job.kind === 'replication') s.replicating.delete(claimKey(job.task.peer, job.task.experiment));
    s.inFlight -= 1;
    s.wake.notify();
  }
}

async function experiment(s: LoopState, device: WorkerDevice, running: ExperimentRecord): Promise<void> {
  const { worker } = device;
  s.emit({ type: 'next', worker, text: nextText(s), runsBefore: 0 });
  draftAhead(s);
  try {
    const result = await runExperiment(s, device, running).catch(async (err: unknown) => {
      // The box failed, not the candidate (its data cannot be built, a disk refused). A store that fails too must not hide the first error.
      await s.lock.run(() => unstarted(s, running)).catch(() => {});
      throw err;
    });
    if (result === 'aborted') return await s.lock.run(() => unstarted(s, running));
    const failed = await s.lock.run(() => concludeExperiment(s, running, result, worker));
    if (failed) await repair(s, failed);
  } finally {
    s.inFlight -= 1;
    s.wake.notify();
  }
}

/** Under the lock: resumed runs first, then the noise floor, replications, queued candidates, peers' changes, proposals. */
async function takeJob(s: LoopState, worker: number): Promise<Job> {
  if (s.stopped) return { kind: 'stop' };
  const resumed = s.resumable[0];
  // Until the baseline is measured there is no best to judge anything against.
  if (!s.hasBest() && resumed?.origin.kind !== 'baseline') return s.inFlight > 0 ? { kind: 'wait', epoch: s.wake.epoch } : { kind: 'stop' };
  if (s.created >= s.max) return { kind: 'stop' };
  if (resumed) {
    s.resumable.shift();
    return { kind: 'experiment', record: await startExperiment(s, resumed, worker) };
  }
  const noise = s.init.noise;
  if (noise && !s.noise && noiseDue(s.records, s.floor, noise)) s.noise = await startNoise(s, noise);
  if (s.noise) {
    const seed = s.noise.take();
    return seed === undefined ? { kind: 'wait', epoch: s.wake.epoch } : { kind: 'noise', measurement: s.noise, seed };
  }
  const task = await s.init.swarm?.replication();
  if (task && !s.replicating.has(claimKey(task.peer, task.experiment))) {
    s.replicating.add(claimKey(task.peer, task.experiment));
    return { kind: 'replication', task };
  }
  const candidate = s.queue.shift() ?? (await s.init.swarm?.next());
  return candidate ? startCandidate(s, candidate, worker) : { kind: 'draft', draft: nextDraft(s) };
}

/** Under the lock: a drafted proposal (or the invalid record it became) once it arrives. */
async function useDraft(s: LoopState, next: Candidate | ExperimentRecord, worker: number): Promise<Ready> {
  if (s.stopped) return { kind: 'stop' };
  if ('v' in next) {
    await s.finish(next, worker);
    return { kind: 'again' };
  }
  if (s.created >= s.max) return { kind: 'stop' };
  return startCandidate(s, next, worker);
}

async function startCandidate(s: LoopState, c: Candidate, worker: number): Promise<Ready> {
  const ready = await stage(s, c);
  if (ready.status === 'invalid' || ready.status === 'skip') {
    await s.finish(ready, worker);
    return { kind: 'again' };
  }
  if (ready.status === 'keep') {
    // A peer's confirmed measurement of exactly this train.py: best moves without a run.
    await s.finish(ready, worker);
    await advanceBest(s, ready);
    return { kind: 'again' };
  }
  return { kind: 'experiment', record: await startExperiment(s, ready, worker) };
}

/** What a worker takes up after the run it starts now, as far as the loop can tell. */
function nextText(s: LoopState): string | null {
  if (s.created >= s.max) return null;
  const resumed = s.resumable[0];
  if (resumed) return `#${resumed.seq} ${resumed.hypothesis} (resumed)`;
  const noise = s.init.noise;
  if (noise && noiseDue(s.records, s.floor, noise, 1)) return `a noise floor measurement (${noise.runs} runs of the best), then experiments`;
  const queued = s.queue[0];
  return queued ? `${queued.hypothesis} (${queued.origin.kind})` : "the next experiment (a peer's change, a replication or a new proposal)";
}
