import { existsSync } from 'node:fs';
import { explorationView, type ExplorationView } from '../directions/index.js';
import { queryControl, type LiveStatus } from '../control/index.js';
import { StoreError, type ExperimentRecord, type NoiseFloor } from '../core/index.js';
import type { SignedRecord } from '../p2p/index.js';
import { isLocked, openStore } from '../store/index.js';
import { Git } from '../workspace/index.js';
import { stateLayout } from './layout.js';

export interface Snapshot {
  records: ExperimentRecord[];
  /** Signed swarm records (results, claims, bests from every peer, this node's included). */
  shared: SignedRecord[];
  /** This node's noise floor measurements, oldest first. */
  noise: NoiseFloor[];
  /** Set when a node is running on this state folder. */
  live: LiveStatus | null;
}

/** Reads a node's records: straight from the store when it is idle, from the running node otherwise. */
export async function readSnapshot(state: string): Promise<Snapshot> {
  const { db } = stateLayout(state);
  if (!existsSync(db)) {
    throw new StoreError(`no swarm node has run in ${state} yet`, { hint: 'start one with `npx swarm join`, or pass --state DIR' });
  }
  try {
    const store = await openStore(db);
    try {
      return { records: await store.list(), shared: (await store.shared()) as unknown as SignedRecord[], noise: await store.noiseFloors(), live: null };
    } finally {
      await store.close();
    }
  } catch (err) {
    if (!isLocked(err)) throw err;
    const [records, shared, noise, live] = await Promise.all([
      queryControl<ExperimentRecord[]>(state, '/records'),
      queryControl<SignedRecord[]>(state, '/shared'),
      queryControl<NoiseFloor[]>(state, '/noise'),
      queryControl<LiveStatus>(state, '/status'),
    ]);
    return { records, shared, noise, live };
  }
}

/** Finds a record by sequence number (`12` or `#12`) or by a prefix of its id or commit. */
export function findRecord(records: readonly ExperimentRecord[], ref: string): ExperimentRecord | undefined {
  const seq = /^#?(\d+)$/.exec(ref.trim());
  if (seq) return records.find((r) => r.seq === Number(seq[1]));
  const matches = records.filter((r) => r.id.startsWith(ref) || (r.commit !== null && ref.length >= 4 && r.commit.startsWith(ref)));
  return matches.length === 1 ? matches[0] : undefined;
}

/** The node's current best train.py, read from its workspace ('' when there is none yet); git reads while the node writes. */
export async function bestSource(state: string): Promise<string> {
  const { workspace } = stateLayout(state);
  if (!existsSync(workspace)) return '';
  const res = await new Git(workspace).run(['cat-file', 'blob', 'refs/heads/best:train.py'], { ok: [0, 128] });
  return res.exitCode === 0 ? res.stdout : '';
}

/** Directions and plateau of the node in `state`, from a snapshot of it. */
export async function exploreState(state: string, snap: Pick<Snapshot, 'records' | 'shared'>, plateau: number): Promise<ExplorationView> {
  return explorationView(snap.records, snap.shared, await bestSource(state), plateau);
}
