/**
 * Recognises writes that failed because of the disk (full, over quota, read-only, no permission, a
 * file where a folder should be) rather than because of a bug, and says so in one line with a hint.
 * The store, the workspace and the run folders all map their failures through here.
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SwarmError } from './errors.js';

export type DiskFault = 'full' | 'quota' | 'read-only' | 'denied' | 'not-a-folder';

const BY_CODE: Record<string, DiskFault> = {
  ENOSPC: 'full', EDQUOT: 'quota', EROFS: 'read-only', EACCES: 'denied', EPERM: 'denied', ENOTDIR: 'not-a-folder',
};

// What git (stderr) and LevelDB (IO error messages) print for the same errno values.
const BY_TEXT: [RegExp, DiskFault][] = [
  [/no space left on device|\bENOSPC\b/i, 'full'],
  [/disk quota exceeded|\bEDQUOT\b/i, 'quota'],
  [/read-only file system|\bEROFS\b/i, 'read-only'],
  [/permission denied|operation not permitted|\bEACCES\b/i, 'denied'],
  [/not a directory|\bENOTDIR\b/i, 'not-a-folder'],
];

/** The disk fault behind `err` (an errno code, one in its cause chain, or git's / LevelDB's wording), or null. */
export function diskFault(err: unknown): DiskFault | null {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e === 'string') return faultInText(e);
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && Object.hasOwn(BY_CODE, code)) return BY_CODE[code]!;
    if (typeof message === 'string') {
      const fault = faultInText(message);
      if (fault) return fault;
    }
    e = cause;
  }
  return null;
}

/**
 * For a write that failed without saying why (git prints "couldn't write '<ref>.lock'" with no errno):
 * tries a small write of its own in `dir`, removed at once, and returns the disk fault it hits, or null.
 */
export async function probeDiskFault(dir: string): Promise<DiskFault | null> {
  const file = join(dir, `.swarm-write-probe-${process.pid}-${Date.now()}`);
  try {
    const fh = await open(file, 'wx');
    try {
      await fh.writeFile(Buffer.alloc(4096));
      await fh.sync();
    } finally {
      await fh.close();
    }
    return null;
  } catch (err) {
    return diskFault(err);
  } finally {
    await rm(file, { force: true }).catch(() => undefined);
  }
}

/**
 * diskError for failures that may not say why (git's "couldn't write '<ref>.lock'", Node's recursive
 * mkdir answering ENOENT on a read-only disk): when `err` names no disk fault, a probe write in
 * `probe` (default `dir`) finds it.
 */
export async function probedDiskError<E extends SwarmError>(
  Kind: new (message: string, options: { hint?: string; cause?: unknown }) => E,
  err: unknown, dir: string, doing: string, probe = dir,
): Promise<E | null> {
  const fault = diskFault(err) ?? (await probeDiskFault(probe));
  if (fault === null) return null;
  const { message, hint } = describeDiskFault(fault, dir, doing);
  return new Kind(message, { hint, cause: err });
}

function faultInText(text: string): DiskFault | null {
  return BY_TEXT.find(([re]) => re.test(text))?.[1] ?? null;
}

/** "cannot <doing>: the disk holding <dir> is full (…)" and what to do about it. */
export function describeDiskFault(fault: DiskFault, dir: string, doing: string): { message: string; hint: string } {
  const resume = 'then join again: everything recorded before is kept and the node resumes';
  switch (fault) {
    case 'full':
      return {
        message: `cannot ${doing}: the disk holding ${dir} is full (ENOSPC: no space left on device)`,
        hint: `free some space on that disk (or move the state folder elsewhere with --state DIR), ${resume}`,
      };
    case 'quota':
      return {
        message: `cannot ${doing}: the disk quota for ${dir} is used up (EDQUOT: disk quota exceeded)`,
        hint: `free some space within your quota (or move the state folder elsewhere with --state DIR), ${resume}`,
      };
    case 'read-only':
      return {
        message: `cannot ${doing}: ${dir} is on a read-only file system (EROFS)`,
        hint: 'remount that disk read-write, or choose a writable state folder with --state DIR',
      };
    case 'denied':
      return {
        message: `cannot ${doing}: no permission to write in ${dir} (EACCES: permission denied)`,
        hint: 'make the state folder writable by this user, or choose another one with --state DIR',
      };
    case 'not-a-folder':
      return {
        message: `cannot ${doing}: ${dir} cannot be a folder, part of its path is a file (ENOTDIR)`,
        hint: 'choose a state folder whose parents are folders with --state DIR',
      };
  }
}

/**
 * `err` as a typed error of class `Kind` that names `dir` and says what happened, when the disk is
 * to blame; null otherwise (the caller keeps its own message for other failures).
 */
export function diskError<E extends SwarmError>(
  Kind: new (message: string, options: { hint?: string; cause?: unknown }) => E,
  err: unknown, dir: string, doing: string,
): E | null {
  const fault = diskFault(err);
  if (fault === null) return null;
  const { message, hint } = describeDiskFault(fault, dir, doing);
  return new Kind(message, { hint, cause: err });
}
