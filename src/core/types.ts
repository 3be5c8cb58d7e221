/** Domain types shared by every part of the node: what an experiment is and what it measured. */

/** Datasets the fixed harness (trainer/prepare.py) knows. */
export type Dataset = 'sotu' | 'climbmix';
export const DATASETS: readonly Dataset[] = ['sotu', 'climbmix'];

/** The summary block train.py prints after `---`; keys are the reference's, so its tools read our logs. */
export interface Metrics {
  val_bpb: number;
  training_seconds: number;
  total_seconds: number;
  peak_vram_mb: number;
  mfu_percent: number;
  total_tokens_M: number;
  num_steps: number;
  num_params_M: number;
  depth: number;
}
export const METRIC_KEYS: readonly (keyof Metrics)[] = [
  'val_bpb', 'training_seconds', 'total_seconds', 'peak_vram_mb', 'mfu_percent',
  'total_tokens_M', 'num_steps', 'num_params_M', 'depth',
];

/** What a box trains on; printed by the node's hardware probe (src/runner/probe.py). */
export interface Hardware {
  device: 'cuda' | 'mps' | 'cpu';
  /** Accelerator model (e.g. "NVIDIA H100 80GB HBM3") or the CPU's name. */
  name: string;
  count: number;
  memoryGb: number;
  torch: string;
  cuda: string | null;
  python: string;
}

/** One GPU of the box: its index as nvidia-smi counts (PCI order), its /dev/nvidia<minor>, its UUID when the driver says. */
export interface GpuUnit {
  index: number;
  minor: number;
  uuid: string | null;
}

/** What one worker of a node trains on: a GPU of its own (CUDA), or a share of the CPU's threads. */
export interface WorkerDevice {
  /** 0-based; LoopEvents and `swarm status` name workers by it. */
  worker: number;
  /** The only GPU its runs see (CUDA); null on CPU and MPS. */
  gpu: GpuUnit | null;
  /** OMP_NUM_THREADS of its runs; null leaves the library's default. */
  threads: number | null;
}

/** How a training run ended, as the runner sees the process. */
export type RunOutcome = 'ok' | 'crash' | 'timeout';

/**
 * The life of an experiment in the store.
 * `running`: started, not finished (a node killed mid-run finds these on restart).
 * `invalid`: the proposal never became a runnable train.py (garbage reply, edit that does not apply).
 * `skip`: a duplicate, not run: this node or a peer (named in the reason) already ran it or is running it.
 * Neither `invalid` nor `skip` is an experiment: no run, no result.
 */
export type ExperimentStatus = 'running' | 'keep' | 'discard' | 'crash' | 'invalid' | 'skip';

/** Where a candidate came from. Peers are a later source; the loop does not care which. */
export interface Origin {
  /**
   * `peer`: a peer's kept change rebased onto our best; `adopt`: a peer's whole better train.py;
   * `import`: a row of another run's results.tsv (`swarm import`), history only, never run here.
   */
  kind: 'baseline' | 'proposer' | 'repair' | 'peer' | 'adopt' | 'import';
  /** e.g. "mutate", "claude:claude-sonnet-4-5", "openai:llama3". */
  proposer: string;
}

export interface ExperimentRecord {
  v: 1;
  /** Globally unique, sortable by creation time. */
  id: string;
  /** This node's experiment number, 1-based; the baseline is 1. */
  seq: number;
  status: ExperimentStatus;
  hypothesis: string;
  origin: Origin;
  /** sha256 (hex) of the parent train.py and of the candidate. */
  parentHash: string;
  hash: string | null;
  parentCommit: string;
  commit: string | null;
  /** Unified diff of train.py, parent to candidate (empty for the baseline). */
  diff: string;
  outcome: RunOutcome | null;
  /** Why it crashed, was invalid, or was discarded; null when kept. */
  reason: string | null;
  metrics: Metrics | null;
  /** Best val_bpb this candidate was judged against (null for the baseline). */
  bestBefore: number | null;
  hardware: Hardware | null;
  dataset: Dataset;
  budgetSeconds: number;
  /** Set under a tokens budget: the run trained on this many tokens, and budgetSeconds does not bind. */
  budgetTokens?: number;
  /** How many times a run was started; a node killed mid-run retries once. */
  attempts: number;
  startedAt: string;
  endedAt: string | null;
  /** The last lines of a failed run's log. */
  logTail: string[];
  logPath: string | null;
  /** Experiment ids (ours and peers') whose changes this train.py contains, oldest first. */
  lineage?: string[];
  /** The gain a candidate needed to be kept: max(threshold, k·σ of the noise floor). */
  margin?: number;
  /** Set on a discard that beat the best, but by less than k·σ: a win inside the noise. */
  insideNoise?: boolean;
  /**
   * The val_bpb train.py printed (its own dev-split estimate), kept beside metrics.val_bpb, which the
   * harness measured. Absent for runs recorded before the harness measured them.
   */
  printedValBpb?: number | null;
  /**
   * Peak memory of the run in MB, measured by the node (never reported by the run): the run cgroup's
   * high-water mark where the fence has one, else the polled resident memory of its process tree.
   * Absent for runs recorded before the node measured it, and for imported rows.
   */
  peakMemoryMb?: number | null;
  /**
   * Set on a record made by `swarm import` from a row of another run's results.tsv: the commit cell
   * as the TSV has it (7 hex characters, or `baseline`) and the row's 1-based line number in the file.
   */
  imported?: { commit: string; line: number };
  /**
   * Set when a foreign harness (its own prepare.py, no evaluate.py: `--trainer`, README) ran it: its
   * val_bpb is the number the run printed, not one the node measured.
   */
  selfReported?: true;
  /**
   * Set on a keep this node did not run: a peer already ran exactly this train.py, and another peer's
   * replication confirmed its val_bpb (metrics are the peer's), so the node took it as its best as it was.
   */
  measuredBy?: { peer: string; experiment: string };
  /** Set when a coding agent (`--proposer agent`) drafted it: the call's caps and what it took. */
  agent?: AgentCall;
}

/**
 * One call of a coding agent (`--proposer agent`, docs/agents.md): what it was allowed and what it took.
 * Kept with the experiment it proposed, or with the invalid record when it proposed nothing; this node's
 * own bookkeeping, not part of the records shared with peers.
 */
export interface AgentCall {
  /** The preset (`claude`, `codex`, `aider`, `opencode`), or `custom` for --agent-cmd. */
  agent: string;
  /** `edited`: train.py changed and nothing else; every other outcome proposed nothing. */
  outcome: 'edited' | 'no-edit' | 'refused' | 'failed' | 'timeout' | 'over-cost' | 'aborted';
  /** Wall time of the call. */
  seconds: number;
  /** The time cap it ran under. */
  timeoutSeconds: number;
  /** What the agent reported spending; null when it reports no cost. */
  costUsd: number | null;
  /** The cost cap it ran under; null when none was set. */
  maxCostUsd: number | null;
}

/**
 * Printed and measured val_bpb disagree by more than dev and val data can explain: the run's own
 * number is not to be believed. Honest runs differ by the dev/val gap, a few hundredths on sotu.
 */
export const PRINTED_TOLERANCE = 0.1;
export function printedMismatch(r: Pick<ExperimentRecord, 'metrics' | 'printedValBpb'>): boolean {
  if (!r.metrics || r.printedValBpb === undefined) return false;
  return r.printedValBpb === null || !(Math.abs(r.printedValBpb - r.metrics.val_bpb) <= PRINTED_TOLERANCE);
}

/**
 * A noise floor: the current best run several times with different seeds on this box, so that
 * a candidate is kept only when it beats the best by more than k·σ (seed luck is not progress).
 */
export interface NoiseFloor {
  v: 1;
  /** This node's measurement number, 1-based. */
  n: number;
  /** sha256 of the train.py measured (the best at the time). */
  hash: string;
  seeds: number[];
  /** val_bpb of each seeded run that finished; crashed runs are left out. */
  values: number[];
  /** Sample standard deviation of `values`; null when fewer than two runs finished. */
  sigma: number | null;
  k: number;
  hardware: Hardware | null;
  /** This node's highest experiment number when it was measured. */
  afterSeq: number;
  at: string;
}

/** A finished run's headline numbers, for the proposers' context. */
export interface HistoryEntry {
  seq: number;
  status: ExperimentStatus;
  hypothesis: string;
  diff: string;
  val_bpb: number | null;
  reason: string | null;
}
