import { mkdir } from 'node:fs/promises';
import type { WorkerDevice } from '../core/index.js';
import { recover } from './experiment.js';
import { latestKeep } from './history.js';
import { LoopState } from './state.js';
import type { LoopInit, LoopReport } from './types.js';
import { worker } from './worker.js';

export type { LoopEvent, LoopInit, LoopReport, PeerCandidate, Replication, SwarmHooks } from './types.js';

const WHOLE_BOX: WorkerDevice[] = [{ worker: 0, gpu: null, threads: null }];

/**
 * The autoresearch loop: propose → run → judge → record, forever or for maxExperiments, on every
 * worker at once (one experiment per GPU, or several on a CPU). One store, workspace and identity
 * serve all workers; their git and store steps take turns (LoopState.lock), their runs overlap.
 * Proposals are drafted while runs train, so an LLM's think time leaves no accelerator idle.
 */
export async function runLoop(init: LoopInit): Promise<LoopReport> {
  const s = new LoopState(init, init.workers?.length ? init.workers : WHOLE_BOX);
  await mkdir(init.runsDir, { recursive: true });
  await s.refresh();
  s.nextSeq = (s.records.at(-1)?.seq ?? 0) + 1;
  await recover(s);
  s.floor = (await init.store.noiseFloors()).at(-1);

  // The very first run of a node is the unmodified baseline.
  if (latestKeep(s.records) === undefined && !s.resumable.some((r) => r.origin.kind === 'baseline')) {
    const base = await init.workspace.best();
    s.resumable.unshift(s.newRecord({ hypothesis: 'baseline', source: base.source, origin: { kind: 'baseline', proposer: 'baseline' }, parent: base }, base));
  }

  await Promise.all(s.workers.map((device) => worker(s, device)));
  if (s.failure !== undefined) throw s.failure;
  return { created: s.created, best: latestKeep(await init.store.list()) };
}
