/**
 * One cgroup per run, for the limits that must hold for the run as a whole (memory, tasks, CPU)
 * and for killing every process of it at the end. cgroup v2 directly when the node's own cgroup
 * has the controllers delegated to it; else cgroup v1's memory and pids hierarchies (plus cpu when
 * present) where the node may write them (root in a container on a v1 or hybrid host). Only the
 * kernel's own files are used: no systemd, so it works wherever the node can write the cgroup.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { memoryWords, processWords } from './limits.js';
import type { FenceLimits } from './types.js';

const CPU_PERIOD_US = 100_000;

/** The cgroup of one run. */
export interface RunCgroup {
  /** The cgroup.procs files a process writes its pid to, to join the run's cgroup(s). */
  readonly procsFiles: readonly string[];
  /** The limit the run hit, in words, or null. */
  hit(): string | null;
  /** The kernel's high-water mark of the run's memory (v2 memory.peak, v1 memory.max_usage_in_bytes), bytes; null where not kept. */
  peakBytes(): number | null;
  /** SIGKILLs every process in the cgroup and removes it. Idempotent. */
  close(): Promise<void>;
}

/** Where runs' cgroups are made on this box. */
export interface CgroupHost {
  /** "cgroup v2" or "cgroup v1". */
  readonly kind: string;
  create(limits: FenceLimits): RunCgroup;
}

/**
 * The host's cgroup for runs, or why there is none (one line). Creates and removes a probe cgroup.
 * `proc`: where this process's mountinfo and cgroup files are (tests point it at a fake tree).
 */
export async function detectCgroup(proc = '/proc/self'): Promise<{ host: CgroupHost | null; reason: string | null }> {
  const own = ownCgroups(proc);
  const mounts = cgroupMounts(proc);
  const reasons: string[] = [];
  for (const make of [v2Host, v1Host]) {
    try {
      const host = make(own, mounts);
      await host.create({ memoryBytes: 64 * 1024 ** 2, processes: 16, cpus: 1, diskBytes: 0 }).close();
      return { host, reason: null };
    } catch (err) {
      reasons.push((err as Error).message);
    }
  }
  return { host: null, reason: `no writable cgroup (${reasons.join('; ')})` };
}

type Mount = { dir: string; root: string; fstype: string; options: string[] };

/** cgroup mounts from /proc/self/mountinfo. */
function cgroupMounts(proc: string): Mount[] {
  const out: Mount[] = [];
  for (const line of safeRead(join(proc, 'mountinfo')).split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const [fstype, , superOpts] = post.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({ dir: unescape(f[4] ?? ''), root: unescape(f[3] ?? '/'), fstype, options: (superOpts ?? '').split(',') });
  }
  return out;
}

/** This process's cgroup per hierarchy: controller list ('' for v2) → path. */
function ownCgroups(proc: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of safeRead(join(proc, 'cgroup')).split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** The folder of `path` (as /proc/self/cgroup says it) under a mount whose root may be a sub-path. */
function mountedPath(m: Mount, path: string): string {
  const rel = m.root !== '/' && path.startsWith(m.root) ? path.slice(m.root.length) : path;
  return join(m.dir, rel);
}

function v2Host(own: Map<string, string>, mounts: Mount[]): CgroupHost {
  const path = own.get('');
  const m = mounts.find((x) => x.fstype === 'cgroup2');
  if (path === undefined || !m) throw new Error('v2: not mounted');
  // a node that already moved itself into its leaf (an earlier detection) makes runs beside it
  const cgroup = basename(path) === 'swarm-node' ? dirname(path) : path;
  const base = mountedPath(m, cgroup);
  const available = safeRead(join(base, 'cgroup.controllers')).split(/\s+/);
  const missing = ['memory', 'pids'].filter((c) => !available.includes(c));
  if (missing.length > 0) throw new Error(`v2: ${missing.join(' and ')} not delegated to ${base}`);
  const controllers = ['memory', 'pids', ...(available.includes('cpu') ? ['cpu'] : [])];
  enableControllers(base, cgroup === '/', controllers);
  return {
    kind: 'cgroup v2',
    create(limits) {
      const dir = join(base, `swarm-run-${randomBytes(6).toString('hex')}`);
      mkdirSync(dir);
      try {
        writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
        tryWrite(join(dir, 'memory.swap.max'), '0'); // swap would let the run outgrow its memory limit
        writeFileSync(join(dir, 'pids.max'), String(limits.processes));
        if (limits.cpus > 0 && controllers.includes('cpu')) {
          writeFileSync(join(dir, 'cpu.max'), `${Math.round(limits.cpus * CPU_PERIOD_US)} ${CPU_PERIOD_US}`);
        }
      } catch (err) {
        rmdirSync(dir);
        throw err;
      }
      return runCgroup([dir], limits, () => {
        const ev = (f: string, key: string) => counter(safeRead(join(dir, f)), key);
        return { oom: ev('memory.events', 'oom_kill'), pidsMax: ev('pids.events', 'max') };
      }, () => tryWrite(join(dir, 'cgroup.kill'), '1'), join(dir, 'memory.peak'));
    },
  };
}

/**
 * Enables the controllers for the node's children. v2's "no internal processes" rule forbids it
 * while the node's own cgroup holds processes (EBUSY): then they move into a leaf, swarm-node, the
 * way a delegated service manager does it, and the runs become its siblings. Only processes that
 * are the node's to move: its own, or all of a container's (the node's cgroup is the root of its
 * cgroup namespace). A login session's shell is left where it is, and the layer is reported missing.
 */
function enableControllers(base: string, nsRoot: boolean, controllers: string[]): void {
  const enabled = safeRead(join(base, 'cgroup.subtree_control')).split(/\s+/);
  const want = controllers.filter((c) => !enabled.includes(c)).map((c) => `+${c}`).join(' ');
  if (!want) return;
  try {
    writeFileSync(join(base, 'cgroup.subtree_control'), want);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw new Error(`v2: cannot enable ${want} in ${base}: ${(err as Error).message}`);
  }
  const procs = pidsIn(base);
  if (!nsRoot && procs.some((p) => p !== process.pid)) {
    throw new Error(`v2: ${base} holds other processes too; start the node in a cgroup of its own (systemd-run --scope -p Delegate=yes ...)`);
  }
  const leaf = join(base, 'swarm-node');
  mkdirSync(leaf, { recursive: true });
  for (const pid of procs) tryWrite(join(leaf, 'cgroup.procs'), String(pid));
  writeFileSync(join(base, 'cgroup.subtree_control'), want);
}

function v1Host(own: Map<string, string>, mounts: Mount[]): CgroupHost {
  const base = (controller: string): string | null => {
    const m = mounts.find((x) => x.fstype === 'cgroup' && x.options.includes(controller));
    const entry = [...own.entries()].find(([k]) => k.split(',').includes(controller));
    return m && entry ? mountedPath(m, entry[1]) : null;
  };
  const memory = base('memory');
  const pids = base('pids');
  if (!memory || !pids) throw new Error(`v1: ${memory ? 'pids' : 'memory'} hierarchy not mounted`);
  const cpu = base('cpu');
  return {
    kind: 'cgroup v1',
    create(limits) {
      const name = `swarm-run-${randomBytes(6).toString('hex')}`;
      const dirs: string[] = [];
      try {
        for (const b of [memory, pids, ...(cpu && limits.cpus > 0 ? [cpu] : [])]) {
          mkdirSync(join(b, name));
          dirs.push(join(b, name));
        }
        const [mem, pid, cpuDir] = dirs as [string, string, string?];
        writeFileSync(join(mem, 'memory.limit_in_bytes'), String(limits.memoryBytes));
        tryWrite(join(mem, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)); // no swap beyond it
        writeFileSync(join(pid, 'pids.max'), String(limits.processes));
        if (cpuDir) writeFileSync(join(cpuDir, 'cpu.cfs_quota_us'), String(Math.round(limits.cpus * CPU_PERIOD_US)));
      } catch (err) {
        for (const d of dirs.reverse()) tryRmdir(d);
        throw new Error(`v1: cannot make a run cgroup under ${memory} and ${pids}: ${(err as Error).message}`);
      }
      const [mem, pid] = dirs as [string, string];
      return runCgroup(dirs, limits, () => ({
        oom: counter(safeRead(join(mem, 'memory.oom_control')), 'oom_kill'),
        pidsMax: counter(safeRead(join(pid, 'pids.events')), 'max'),
      }), () => false, join(mem, 'memory.max_usage_in_bytes'));
    },
  };
}

/**
 * The run side, shared by both versions. `fastKill` is v2's cgroup.kill (false when not there);
 * `peakFile` holds the memory high-water mark (memory.peak needs Linux 5.19 on v2).
 */
function runCgroup(dirs: string[], limits: FenceLimits, events: () => { oom: number; pidsMax: number }, fastKill: () => boolean, peakFile: string): RunCgroup {
  let closing: Promise<void> | null = null;
  return {
    procsFiles: dirs.map((d) => join(d, 'cgroup.procs')),
    peakBytes() {
      const text = safeRead(peakFile).trim();
      return /^\d+$/.test(text) ? Number(text) : null;
    },
    hit() {
      const e = events();
      if (e.oom > 0) return memoryWords(limits);
      if (e.pidsMax > 0) return processWords(limits);
      return null;
    },
    close() {
      closing ??= (async () => {
        fastKill();
        // Kill until empty: a process may fork between reading the list and the kill; the pids
        // limit bounds how often that can happen, and a killed process forks no more.
        for (let i = 0; i < 100; i++) {
          const left = dirs.flatMap(pidsIn);
          if (left.length === 0) break;
          for (const p of left) {
            try {
              process.kill(p, 'SIGKILL');
            } catch {
              // already gone
            }
          }
          await sleep(20);
        }
        // EBUSY while an exiting process is still listed; anything else will not get better
        for (let i = 0; i < 50 && dirs.map(tryRmdir).includes('EBUSY'); i++) await sleep(20);
      })();
      return closing;
    },
  };
}

function pidsIn(dir: string): number[] {
  return safeRead(join(dir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
}

/** `key N` in a flat-keyed cgroup file (memory.events, pids.events, memory.oom_control). */
function counter(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

function tryWrite(p: string, v: string): boolean {
  try {
    writeFileSync(p, v);
    return true;
  } catch {
    return false;
  }
}

/** Removes an (empty) cgroup; the error code when it cannot, null when it is gone. */
function tryRmdir(d: string): string | null {
  try {
    rmdirSync(d);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    return code === 'ENOENT' ? null : code;
  }
}

/** mountinfo escapes spaces and the like as \040. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
