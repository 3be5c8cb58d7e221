/**
 * One process inside the fence: spawned in its own process group, fed line by line, stopped by the
 * wall-clock limit, by an abort, or by a limit the fence reports; everything it left is killed.
 */
import { execa } from 'execa';
import { TrainerError } from '../core/index.js';
import type { Fence, FenceSpec } from '../sandbox/index.js';
import { watchTreeMemory } from './memory.js';

const SETUP_HINT = 'run scripts/setup.sh to create .venv with PyTorch, or point the python setting at a Python that has torch';

export interface FencedProcess {
  cmd: string[];
  spec: FenceSpec;
  fence: Fence;
  timeoutSeconds: number;
  /** Between SIGTERM and SIGKILL of the process group on timeout/abort/limit. */
  killGraceSeconds: number;
  /** Every chunk of stdout and stderr, interleaved; a returned text stops the run as a limit it hit. */
  onOutput(chunk: Buffer): string | void;
  signal?: AbortSignal;
}

export interface ProcessEnd {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The fence limit that stopped the run ("memory limit of 3.0 GiB reached"), or null. */
  limit: string | null;
  wallSeconds: number;
  /**
   * The run's peak memory in MB, measured by the node: the run cgroup's high-water mark where the
   * fence has one, else the polled resident memory of its process tree (./memory.ts); null if neither.
   */
  peakMemoryMb: number | null;
}

/** Process groups of runs in flight; killed if this Node process exits while they run. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const g of liveGroups) killGroup(g, 'SIGKILL');
    });
  }
  liveGroups.add(pid);
}

/** Signals a whole process group; false when it no longer exists. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Runs `cmd` in the fence. Resolves when it has ended and nothing of it is left; rejects with
 * TrainerError when it cannot start at all, and with the abort reason when `signal` aborts.
 */
export async function runFenced(p: FencedProcess): Promise<ProcessEnd> {
  let limitReason: string | null = null;
  let stop = (): void => {};
  const fenced = await p.fence.enter(p.cmd, p.spec, (reason) => {
    limitReason ??= reason;
    stop();
  });
  const t0 = performance.now();
  try {
    const sub = execa(fenced.cmd[0]!, fenced.cmd.slice(1), {
      cwd: p.spec.runDir, env: fenced.env, extendEnv: false, detached: true, cleanup: false,
      stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', all: true, buffer: false, reject: false, encoding: 'buffer',
    });
    const pid = sub.pid;
    let timedOut = false;
    let aborted = false;
    let graceTimer: NodeJS.Timeout | undefined;
    stop = () => {
      if (pid === undefined) return;
      killGroup(pid, 'SIGTERM');
      graceTimer ??= setTimeout(() => killGroup(pid, 'SIGKILL'), p.killGraceSeconds * 1000);
    };
    if (pid !== undefined) trackGroup(pid);
    const memory = pid === undefined ? null : watchTreeMemory(pid);
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, p.timeoutSeconds * 1000);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    p.signal?.addEventListener('abort', onAbort, { once: true });
    // Stopped while the fence was being entered: no 'abort' event comes any more.
    if (p.signal?.aborted) onAbort();
    // Whatever the main process left in its group is garbage once it exits: no straggler holds the pipe.
    sub.once('exit', () => {
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    });
    sub.all?.on('data', (chunk: Buffer) => {
      const limit = p.onOutput(chunk);
      if (limit && limitReason === null) {
        limitReason = limit;
        stop();
      }
    });
    let result;
    let polledMb: number | null = null;
    try {
      result = await sub;
    } finally {
      polledMb = memory?.stop() ?? null;
      clearTimeout(timer);
      if (graceTimer) clearTimeout(graceTimer);
      p.signal?.removeEventListener('abort', onAbort);
      if (pid !== undefined) {
        killGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
      }
    }
    if (pid === undefined || (result.failed && result.exitCode === undefined && result.signal === undefined)) {
      throw spawnFailure(fenced.cmd[0]!, result.code, result.message);
    }
    if (aborted && p.signal) throw abortReason(p.signal);
    // A limit met after the fact (a fork refused once) is the cause only of a run that failed.
    const hit = await fenced.limitHit();
    if (result.exitCode !== 0) limitReason ??= hit;
    return {
      exitCode: result.exitCode ?? null, signal: result.signal ?? null, timedOut, limit: limitReason,
      wallSeconds: Math.round(performance.now() - t0) / 1000, peakMemoryMb: peakMb(fenced.peakMemoryBytes()) ?? polledMb,
    };
  } finally {
    await fenced.close();
  }
}

function peakMb(bytes: number | null): number | null {
  return bytes === null || bytes <= 0 ? null : Math.round(bytes / 1024 ** 2 * 10) / 10;
}

function spawnFailure(cmd: string, code: string | undefined, message: string | undefined): TrainerError {
  return new TrainerError(`cannot start the trainer (${cmd}): ${code ?? message ?? 'unknown error'}`, {
    hint: SETUP_HINT, cause: new Error(message ?? code),
  });
}
