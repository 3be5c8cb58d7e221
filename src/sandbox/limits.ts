/**
 * Per-run limits: the box's defaults, how they are said in words, and the rlimits set with prlimit
 * (util-linux) in front of the fenced command. rlimits are per process, so they back up the cgroup
 * rather than replace it: RLIMIT_NPROC counts the run's uid (useless for root, which ignores it:
 * one more reason runs are uid 65534), RLIMIT_FSIZE caps each file, RLIMIT_CORE 0 keeps a crash
 * from dumping the run's memory to disk.
 */
import { availableParallelism, totalmem } from 'node:os';
import type { FenceLimits } from './types.js';

const GiB = 1024 ** 3;

/** Derived from the box: 3/4 of its memory, 512 tasks, every core, 4 GiB of run folder. */
export function defaultLimits(): FenceLimits {
  return { memoryBytes: Math.floor((totalmem() * 3) / 4), processes: 512, cpus: availableParallelism(), diskBytes: 4 * GiB };
}

/** 3221225472 → "3.0 GiB". */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

export function memoryWords(l: FenceLimits): string {
  return `memory limit of ${formatBytes(l.memoryBytes)} reached`;
}
export function processWords(l: FenceLimits): string {
  return `process limit of ${l.processes} reached`;
}

/**
 * `prlimit` options (before the command). `addressSpace`: also cap each process's address space at
 * the memory limit, for boxes without a memory cgroup. Never on a GPU run: CUDA reserves far more
 * address space than it uses, so RLIMIT_AS would break it; such a run's memory is then unlimited.
 * RLIMIT_FSIZE is one byte over the disk limit, so a file stopped by it leaves the run folder past
 * the limit and the disk check names it.
 */
export function prlimitArgs(prlimit: string, l: FenceLimits, addressSpace: boolean): string[] {
  const a = [prlimit, `--nproc=${l.processes}`, `--fsize=${l.diskBytes + 1}`, '--core=0'];
  if (addressSpace) a.push(`--as=${l.memoryBytes}`);
  a.push('--');
  return a;
}
