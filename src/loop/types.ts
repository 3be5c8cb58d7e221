import type { Proposer } from '../agent/index.js';
import type { AgentCall, Dataset, ExperimentRecord, HistoryEntry, Logger, Metrics, NoiseFloor, Origin, WorkerDevice } from '../core/index.js';
import type { Attempt } from '../directions/index.js';
import type { RunResult, Trainer } from '../runner/index.js';
import type { Store } from '../store/index.js';
import type { NoiseSettings } from '../trust/index.js';
import type { Version, Workspace } from '../workspace/index.js';

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
  /** One experiment runs at a time on each (a GPU each, or a share of the CPU); default: one worker on the whole box. */
  workers?: WorkerDevice[];
  /** Judged experiments without a keep after which the proposers are told the node has plateaued; 0 turns it off (default DEFAULT_PLATEAU). */
  plateau?: number;
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
  /**
   * A peer's confirmed measurement of exactly this train.py (same hash, this box's hardware class, verified
   * by another peer's replication, code this box would run), to take instead of running it again; else null.
   */
  peerMeasurement(record: ExperimentRecord): Promise<PeerMeasurement | null>;
  /** Shares a finished experiment. */
  recorded(record: ExperimentRecord): Promise<void>;
  /** Hashes of every train.py peers have run, and their results, for the proposers. */
  tried(): Promise<Set<string>>;
  history(): Promise<HistoryEntry[]>;
  /** Peers' results and live claims, for grouping into directions (src/directions). */
  attempts?(): Promise<Attempt[]>;
  /** A result to re-run here before the next candidate (replication), if any. */
  replication(): Promise<Replication | undefined>;
  /** Shares what re-running it measured. */
  replicated(task: Replication, result: RunResult): Promise<void>;
  /** Shares this box's new noise floor. */
  measured(floor: NoiseFloor): Promise<void>;
}

/** What a peer measured for a train.py: its result's experiment and metrics. */
export interface PeerMeasurement {
  peer: string;
  experiment: string;
  metrics: Metrics;
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
 * What the loop is doing, for the terminal, `swarm status` and the dashboard. Every event names the
 * worker (0-based, as in LoopInit.workers) it happened on. An experiment runs between `start` and
 * `finish`; a noise or replication run (not an experiment) between `run` and `ran`. `progress` is the
 * worker's run in flight (seq 0 outside experiments); `next` says what that worker takes up after it.
 */
export type LoopEvent = { worker: number } & (
  | { type: 'start'; record: ExperimentRecord; expectedSeconds: number | null }
  | { type: 'run'; kind: 'noise' | 'replication'; label: string; expectedSeconds: number | null }
  | { type: 'progress'; seq: number; step: number; loss: number; elapsedSeconds: number; fraction: number | null }
  | { type: 'finish'; record: ExperimentRecord }
  | { type: 'ran'; kind: 'noise' | 'replication'; label: string; outcome: string; valBpb: number | null }
  /** `runsBefore`: whole runs between the end of the run in flight and the start of the last thing `text` names. */
  | { type: 'next'; text: string | null; runsBefore: number });

export interface LoopReport {
  /** Records created in this invocation. */
  created: number;
  best: ExperimentRecord | undefined;
}

/** A train.py ready to be staged: where it came from and what it was written against. */
export interface Candidate {
  hypothesis: string;
  source: string;
  origin: Origin;
  parent: Version;
  /** Experiments whose changes it brings besides its own (a peer's lineage). */
  lineage?: string[];
  refused?: string | null;
  /** The coding-agent call that drafted it (`--proposer agent`), recorded with the experiment. */
  agent?: AgentCall;
}
