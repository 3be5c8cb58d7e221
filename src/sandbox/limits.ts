/**
 * Per-run limits: the box's defaults, how they are said in words, and the rlimits set with prlimit
 * (util-linux) in front of the fenced command. rlimits are per process, so they back up the cgroup
 * rather than replace it: RLIMIT_FSIZE caps each file, RLIMIT_CORE 0 keeps a crash from dumping the
 * run's memory to disk, and without a cgroup RLIMIT_NPROC counts the run's uid (root ignores it:
 * one more reason runs are uid 65534) and RLIMIT_AS stands in for the memory limit.
 */
import { availableParallelism, totalmem } from 'node:os';
import type { FenceLimits } from './types.js';

const GiB = 1024 ** 3;

/**
 * Derived from the box: 3/4 of its memory, every core, 4 GiB of run folder, and 512 tasks or 4 per
 * core if more (PyTorch starts a thread per core for intra-op and for inter-op work, and tasks count
 * threads).
 */
export function defaultLimits(): FenceLimits {
  const cores = availableParallelism();
  return { memoryBytes: Math.floor((totalmem() * 3) / 4), processes: Math.max(512, 4 * cores), cpus: cores, diskBytes: 4 * GiB };
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
 * `prlimit` options (before the command), for what the cgroup does not already hold:
 * - `noCgroup`: RLIMIT_NPROC, and RLIMIT_AS (each process's address space at the memory limit)
 *   unless `gpu`. With a cgroup, its pids limit counts this run's tasks exactly, whereas
 *   RLIMIT_NPROC counts every process of uid 65534 on the box, other runs' too. RLIMIT_AS is never
 *   set on a GPU run: CUDA reserves far more address space than it uses, so it would break; such a
 *   run's memory is then unlimited.
 * - always: RLIMIT_FSIZE one byte over the disk limit (a file stopped by it leaves the run folder
 *   past the limit, so the disk check names it), and RLIMIT_CORE 0.
 */
export function prlimitArgs(prlimit: string, l: FenceLimits, noCgroup: boolean, gpu: boolean): string[] {
  const a = [prlimit, `--fsize=${l.diskBytes + 1}`, '--core=0'];
  if (noCgroup) a.push(`--nproc=${l.processes}`);
  if (noCgroup && !gpu) a.push(`--as=${l.memoryBytes}`);
  a.push('--');
  return a;
}
