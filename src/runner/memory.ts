/**
 * The peak memory of a run, as the node sees it from outside when the fence has no cgroup to ask:
 * the resident memory of the run's process tree, polled from /proc. It is a lower bound: a spike
 * between two polls is seen only through each process's own high-water mark (VmHWM).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface MemoryWatch {
  /** Stops polling; the peak seen in MB, null where /proc could not be read. */
  stop(): number | null;
}

/**
 * Polls the tree under `root` every `everyMs`: the peak of its summed VmRSS, or of one process's VmHWM,
 * whichever is larger. The first polls come sooner (25 ms, doubling up to `everyMs`), so a run that
 * ends in a fraction of a second is still seen once it has started.
 */
export function watchTreeMemory(root: number, everyMs = 500, proc = '/proc'): MemoryWatch {
  let peakKb: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  const sample = (delayMs: number): void => {
    const kb = treeKb(root, proc);
    if (kb !== null) peakKb = Math.max(peakKb ?? 0, kb);
    timer = setTimeout(() => sample(Math.min(everyMs, delayMs * 2)), delayMs);
    timer.unref();
  };
  sample(Math.min(everyMs, 25));
  return {
    stop() {
      clearTimeout(timer);
      return peakKb === null ? null : Math.round(peakKb / 1024 * 10) / 10;
    },
  };
}

/** max(Σ VmRSS, max VmHWM) over `root` and its descendants, kB; null when /proc shows none of them with memory. */
function treeKb(root: number, proc: string): number | null {
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return null;
  }
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const ppid = parentOf(read(`${proc}/${pid}/stat`));
    if (ppid !== null) children.set(ppid, [...(children.get(ppid) ?? []), Number(pid)]);
  }
  let rss = 0;
  let hwm = 0;
  let seen = false;
  for (const queue = [root]; queue.length > 0;) {
    const pid = queue.pop()!;
    const status = read(`${proc}/${pid}/status`);
    // No VmRSS line: a zombie, or a process still between fork and exec; it says nothing yet.
    if (/^VmRSS:/m.test(status)) {
      seen = true;
      rss += kbField(status, 'VmRSS');
      hwm = Math.max(hwm, kbField(status, 'VmHWM'));
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return seen ? Math.max(rss, hwm) : null;
}

/** The ppid in /proc/<pid>/stat: the 2nd field after the command name, which may itself hold spaces and parentheses. */
function parentOf(stat: string): number | null {
  const m = /\) \S+ (\d+) /.exec(stat.slice(stat.lastIndexOf(')')));
  return m ? Number(m[1]) : null;
}

function kbField(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
