/**
 * The file system a fenced run sees, as bwrap options: an empty root with only an allowlist bound
 * into it. Nothing of the host is visible unless listed here or by the caller: not the user's HOME,
 * not another node's state folder, not a socket (/run and /tmp are fresh tmpfs's, and a Unix
 * socket cannot be reached through a path that is not there).
 */
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative } from 'node:path';
import { SandboxError } from './errors.js';

/** One top-level system folder as the host has it: a real folder, or (merged /usr) a symlink. */
export type SystemEntry = { path: string; link: string | null };

export interface ViewInput {
  system: readonly SystemEntry[];
  /** Host files and folders under /etc to show read-only (the loader's cache, alternatives, ...). */
  etc: readonly string[];
  /** Generated passwd and group files naming the run's uid, shown as /etc/passwd and /etc/group. */
  passwd: string;
  group: string;
  /** Read-only binds: the interpreter's paths and the caller's binds. */
  readonly: readonly { src: string; dest: string }[];
  runDir: { src: string; dest: string; readonly: boolean };
  /** GPU device nodes to show (empty unless the run may use the GPU). */
  devices: readonly string[];
  /** Show /sys read-only (only with GPU devices: see gpuView()). */
  sys: boolean;
  /** Size of the private /tmp and /dev/shm (they live in memory). */
  tmpBytes: number;
}

/** System folders looked at on the host; only those present are shown. */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32'];
/** What the dynamic loader, update-alternatives links and Python's time module read under /etc. */
const ETC_PATHS = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives', '/etc/localtime'];

/**
 * The bwrap mount options for one run. Pure. Fresh mounts come first, then the binds from the
 * shallowest destination to the deepest (a later mount covers an earlier one, so a bind inside
 * another bind, or inside /tmp, stays visible), and the root is made read-only last.
 */
export function viewArgs(v: ViewInput): string[] {
  const size = String(Math.max(1, Math.floor(v.tmpBytes)));
  const a: string[] = [
    '--dev', '/dev',
    '--perms', '1777', '--size', size, '--tmpfs', '/dev/shm',
    '--perms', '1777', '--size', size, '--tmpfs', '/tmp',
    '--tmpfs', '/run',
    '--proc', '/proc',
  ];
  for (const d of v.devices) a.push('--dev-bind', d, d);
  // A GPU run needs: the device nodes (/dev/nvidiactl, nvidia-uvm, nvidiaN, nvidia-caps; /dev/dri
  // and /dev/kfd for others), the driver's user-space libraries (under /usr, already shown),
  // /proc/driver/nvidia (part of the fresh /proc), and /sys: libcuda and NVML read the GPU's PCI and
  // NUMA topology under /sys/bus/pci and /sys/devices (the former is symlinks into the latter).
  // Read-only, and only on a run that has the GPU.
  if (v.sys) a.push('--ro-bind', '/sys', '/sys');
  for (const s of v.system) {
    if (s.link !== null) a.push('--symlink', s.link, s.path);
    else a.push('--ro-bind', s.path, s.path);
  }
  // Created explicitly: bwrap would make a missing parent 0700, shutting the run out of it.
  a.push('--perms', '0755', '--dir', '/etc');
  for (const e of v.etc) a.push('--ro-bind', e, e);
  a.push('--ro-bind', v.passwd, '/etc/passwd', '--ro-bind', v.group, '/etc/group');

  const binds = [
    ...v.readonly.map((b) => ({ ...b, flag: '--ro-bind' })),
    { src: v.runDir.src, dest: v.runDir.dest, flag: v.runDir.readonly ? '--ro-bind' : '--bind' },
  ].sort((x, y) => depth(x.dest) - depth(y.dest));
  const made = new Set(['/', '/tmp', '/dev', '/dev/shm', '/run', '/proc', '/etc', ...v.system.map((s) => s.path)]);
  for (const b of binds) {
    // bwrap creates missing parents with the mode of the host's folder (/root: 0700), which would
    // shut the unprivileged run out of e.g. /root/.pyenv/versions/3.11: make them 0755 first.
    for (const d of ancestors(b.dest)) {
      if (made.has(d)) continue;
      made.add(d);
      a.push('--perms', '0755', '--dir', d);
    }
    made.add(b.dest);
    a.push(b.flag, b.src, b.dest);
  }
  a.push('--remount-ro', '/');
  return a;
}

/** How the host lays out its system folders and /etc files. Read once per fence. */
export function hostSystem(): { system: SystemEntry[]; etc: string[] } {
  const system: SystemEntry[] = [];
  for (const path of SYSTEM_PATHS) {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) system.push({ path, link: readlinkSync(path) });
      else if (st.isDirectory()) system.push({ path, link: null });
    } catch {
      // not on this host
    }
  }
  return { system, etc: ETC_PATHS.filter((p) => existsSync(p)) };
}

/** A bind whose source is resolved on the host (links followed) and whose destination is checked. */
export function resolvedBind(src: string, dest: string = src): { src: string; dest: string } {
  for (const p of [src, dest]) {
    if (!isAbsolute(p)) throw new SandboxError(`a fence bind path must be absolute, got ${JSON.stringify(p)}`);
  }
  const d = normalize(dest).replace(/\/+$/, '');
  if (d === '' || d === '/proc' || d === '/dev' || d.startsWith('/proc/') || d.startsWith('/dev/')) {
    throw new SandboxError(`a fence bind cannot replace ${JSON.stringify(dest)}`);
  }
  try {
    return { src: realpathSync(src), dest: d };
  } catch (err) {
    throw new SandboxError(`cannot bind ${src} into the fence: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Read-only binds for an interpreter's paths: each at its own path and, when links lead elsewhere,
 * at its real path too (the interpreter may look there). A path that an earlier bind (or a system
 * folder) already shows with the same content is left out.
 */
export function interpreterBinds(paths: readonly string[], system: readonly SystemEntry[]): { src: string; dest: string }[] {
  const shown: { src: string; dest: string }[] = system.map((s) => ({ src: realOrSelf(s.path), dest: s.path }));
  const out: { src: string; dest: string }[] = [];
  for (const p of [...paths].sort((x, y) => depth(x) - depth(y))) {
    const real = realOrSelf(p);
    for (const dest of real === p ? [p] : [p, real]) {
      if (shown.some((b) => isInside(dest, b.dest) && join(b.src, relative(b.dest, dest)) === real)) continue;
      const bind = { src: real, dest };
      shown.push(bind);
      out.push(bind);
    }
  }
  return out;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function isInside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let d = dirname(p); d !== '/' && d !== '.'; d = dirname(d)) out.unshift(d);
  return out;
}
