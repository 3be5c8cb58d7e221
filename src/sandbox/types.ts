/** The fence's public types (see index.ts for what each layer does). */

export interface FenceLimits {
  /** Bytes of memory for the whole run (all its processes). */
  memoryBytes: number;
  /** Tasks (threads count where the layer counts them: the pids cgroup). */
  processes: number;
  /** CPU quota in cores (cgroup cpu); 0 = no limit. */
  cpus: number;
  /** Bytes the run folder may hold (polled), also the size of every single file (RLIMIT_FSIZE). */
  diskBytes: number;
}

export interface FenceSpec {
  /** Exists; the working directory and HOME; writable unless runDirReadonly. */
  runDir: string;
  runDirReadonly?: boolean;
  /** Extra READ-ONLY binds (files or folders); dest defaults to src. */
  binds: { src: string; dest?: string }[];
  /** The run's own variables (SWARM_*, PYTHONPATH, ...). Of process.env only a fixed allowlist gets in. */
  env: Record<string, string>;
  /** The interpreter (absolute): its prefix, base prefix and sys.path entries are bound read-only. */
  python: string;
  /** Bind the GPU device nodes (only on a box that has them). */
  gpu: boolean;
  /** With `gpu`: the minors of the only /dev/nvidia<N> nodes to bind (the run's own GPU); omitted: all of them. */
  gpus?: readonly number[];
  limits: FenceLimits;
}

export interface FencedRun {
  /** Spawn exactly this (detached, own process group), with `env` and extendEnv: false. */
  cmd: string[];
  env: Record<string, string>;
  /** After the process exits: the limit that stopped it, in words ("memory limit of 4.0 GiB reached"), or null. */
  limitHit(): Promise<string | null>;
  /** Before close: the run cgroup's memory high-water mark in bytes; null without a cgroup that keeps one. */
  peakMemoryBytes(): number | null;
  /** Kills whatever is left of the run (every process), removes the cgroup. Idempotent. */
  close(): Promise<void>;
}

export type LayerName = 'filesystem' | 'network' | 'user' | 'seccomp' | 'cgroup' | 'rlimits';
export const LAYER_NAMES: readonly LayerName[] = ['filesystem', 'network', 'user', 'seccomp', 'cgroup', 'rlimits'];

export interface Fence {
  /** Each layer: null when in force, else why it is missing (one short reason). */
  readonly layers: Readonly<Record<LayerName, string | null>>;
  /** True when every layer is in force. */
  readonly complete: boolean;
  /** One line for the log: which layers hold, which are missing and why. */
  describe(): string;
  /** onLimit is called (once) when a limit is hit while the run is live (e.g. disk poll): the caller kills the run. */
  enter(cmd: string[], spec: FenceSpec, onLimit: (reason: string) => void): Promise<FencedRun>;
}
