/**
 * The run folder's size, polled: a disk quota would need a file system per run, and a poll every
 * second, plus RLIMIT_FSIZE on each file, keeps a run from filling the disk by more than one
 * second of writes. Bytes are counted as allocated blocks (what fills a disk; a sparse file costs
 * nothing), each inode once, and the number of entries is capped too, since a flood of empty files
 * fills a disk's inodes and would make every poll slower.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from './limits.js';

/** Entries a run folder may hold: far more than a training run writes, few enough to walk in a blink. */
export const MAX_ENTRIES = 100_000;
const POLL_MS = 1000;

/** Why `dir` is over its limits (in words), or null. Never follows links. */
export async function diskOver(dir: string, maxBytes: number): Promise<string | null> {
  let bytes = 0;
  let entries = 0;
  const seen = new Set<string>();
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      continue; // removed meanwhile, or not a folder the node can read
    }
    for (const n of names) {
      if (++entries > MAX_ENTRIES) return `run folder holds more than ${MAX_ENTRIES} files`;
      const p = join(d, n);
      try {
        const st = await lstat(p);
        const id = `${st.dev}:${st.ino}`;
        if (seen.has(id)) continue;
        seen.add(id);
        bytes += st.blocks * 512;
        if (st.isDirectory()) stack.push(p);
      } catch {
        // gone between readdir and lstat
      }
    }
    if (bytes > maxBytes) return `run folder grew past ${formatBytes(maxBytes)}`;
  }
  return null;
}

/** Polls `dir` until stopped; calls onOver once with the words of diskOver(). */
export function watchDisk(dir: string, maxBytes: number, onOver: (reason: string) => void): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const over = await diskOver(dir, maxBytes);
    if (stopped) return;
    if (over) {
      stopped = true;
      onOver(over);
      return;
    }
    timer = setTimeout(tick, POLL_MS);
    timer.unref();
  };
  timer = setTimeout(tick, POLL_MS);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
