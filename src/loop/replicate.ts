import type { WorkerDevice } from '../core/index.js';
import { runFolderName } from './run-folder.js';
import { expectedSeconds, type LoopState } from './state.js';
import type { Replication } from './types.js';

/** Re-runs a peer's claimed result on a worker and hands the measurement to the swarm. */
export async function replicate(s: LoopState, task: Replication, device: WorkerDevice): Promise<void> {
  const { worker } = device;
  const label = `replicating ${task.experiment} of peer ${task.peer.slice(-8)} (claimed val_bpb ${task.claimed?.toFixed(6) ?? 'none'})`;
  s.log.info(label);
  s.emit({ type: 'run', worker, kind: 'replication', label, expectedSeconds: expectedSeconds(s.records) });
  s.emit({ type: 'next', worker, text: "the next experiment (a peer's change, a replication or a new proposal)", runsBefore: 0 });
  const result = await s.train(device, task.source, runFolderName('verify', task.peer, task.experiment), 0);
  if (result === 'aborted') return;
  s.emit({ type: 'ran', worker, kind: 'replication', label, outcome: result.outcome, valBpb: result.metrics?.val_bpb ?? null });
  await s.init.swarm!.replicated(task, result).catch((err: unknown) => s.log.warn(`replication of ${task.experiment} not shared: ${(err as Error).message}`));
}
