/**
 * What the harness looks at after a run: file trees (hashed, links never followed), processes left
 * behind, canaries in what a record could carry.
 */
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, utimesSync, writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** path -> 'dir' | 'link:<target>' | 'file:<sha256>:<mode>' | 'socket' | 'other', for every entry under the roots except `skip`. */
export type Tree = Map<string, string>;

function entry(path: string): string {
  const st = lstatSync(path);
  if (st.isDirectory()) return `dir:${(st.mode & 0o7777).toString(8)}`;
  if (st.isSymbolicLink()) return `link:${readlinkSync(path)}`;
  if (st.isSocket()) return 'socket';
  if (!st.isFile()) return 'other';
  return `file:${createHash('sha256').update(readFileSync(path)).digest('hex')}:${(st.mode & 0o7777).toString(8)}`;
}

export function hashTree(roots: readonly string[], skip: readonly string[] = []): Tree {
  const tree: Tree = new Map();
  const visit = (p: string): void => {
    if (skip.includes(p) || !existsSync(p) && !isLink(p)) return;
    const e = entry(p);
    tree.set(p, e);
    if (e.startsWith('dir:')) for (const name of readdirSync(p)) visit(join(p, name));
  };
  for (const r of roots) visit(r);
  return tree;
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** One line per difference: "+ path" (new), "- path" (gone), "~ path" (changed). */
export function treeDiff(before: Tree, after: Tree): string[] {
  const out: string[] = [];
  for (const [p, e] of after) {
    const was = before.get(p);
    if (was === undefined) out.push(`+ ${p}`);
    else if (was !== e) out.push(`~ ${p}`);
  }
  for (const p of before.keys()) if (!after.has(p)) out.push(`- ${p}`);
  return out.sort();
}

/** The regular files of a folder, bytes and times kept, to put a checkout back as it was if an attack got through. */
export function saveFiles(dir: string): Map<string, { bytes: Buffer; atime: Date; mtime: Date }> {
  const files = new Map<string, { bytes: Buffer; atime: Date; mtime: Date }>();
  for (const [p, e] of hashTree([dir])) {
    if (e.startsWith('file:')) files.set(p, { bytes: readFileSync(p), atime: lstatSync(p).atime, mtime: lstatSync(p).mtime });
  }
  return files;
}

/**
 * Puts back what saveFiles() kept and removes what is new. Times are restored too: a prepare.py with a new
 * mtime would make every later import rewrite its .pyc, which a concurrent suite would see as a change.
 */
export function restoreFiles(dir: string, saved: ReturnType<typeof saveFiles>): void {
  for (const [p, e] of hashTree([dir])) {
    if (!saved.has(p) && !e.startsWith('dir:')) rmSync(p, { force: true });
  }
  for (const [p, f] of saved) {
    mkdirSync(dirname(p), { recursive: true });
    rmSync(p, { force: true });
    writeFileSync(p, f.bytes);
    utimesSync(p, f.atime, f.mtime);
  }
  for (const [p, e] of [...hashTree([dir])].reverse()) {
    if (e.startsWith('dir:') && p !== dir && readdirSync(p).length === 0 && ![...saved.keys()].some((f) => f.startsWith(`${p}/`))) rmSync(p, { recursive: true });
  }
}

function readProc(pid: string, what: string): string {
  try {
    return readFileSync(`/proc/${pid}/${what}`, 'latin1');
  } catch {
    return '';
  }
}

function procCwd(pid: string): string {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return '';
  }
}

function isZombie(pid: string): boolean {
  return /^\d+ \(.*\) [ZX] /s.test(readProc(pid, 'stat'));
}

/** Live processes (not this one) whose command line, environment or working folder names any marker. */
export function processesMarked(markers: readonly string[]): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid || isZombie(pid)) continue;
    const text = `${readProc(pid, 'cmdline')}\n${readProc(pid, 'environ')}\n${procCwd(pid)}`;
    if (markers.some((m) => text.includes(m))) found.push(Number(pid));
  }
  return found;
}

/** Waits up to `ms` for the marked processes to go, then returns those still there. */
export async function survivors(markers: readonly string[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = processesMarked(markers);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 200));
    left = processesMarked(markers);
  }
  return left;
}

/** Regular files under a folder, links not followed, with (the start of) their text; latin1 keeps every byte. */
export function filesUnder(dir: string, maxBytes = 64 << 20): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const visit = (p: string): void => {
    const st = lstatSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name));
    else if (st.isFile()) out.push({ path: relative(dir, p), text: readStart(p, Math.min(st.size, maxBytes)).toString('latin1') });
  };
  if (existsSync(dir)) visit(dir);
  return out;
}

function readStart(path: string, n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = openSync(path, 'r');
  try {
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}
