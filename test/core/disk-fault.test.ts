import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeDiskFault, diskError, diskFault, probeDiskFault, StoreError, SwarmError } from '../../src/core/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const errno = (code: string, message = `${code}: something, write`) => Object.assign(new Error(message), { code });

describe('diskFault', () => {
  it('reads errno codes, also down a cause chain', () => {
    expect(diskFault(errno('ENOSPC'))).toBe('full');
    expect(diskFault(errno('EDQUOT'))).toBe('quota');
    expect(diskFault(errno('EROFS'))).toBe('read-only');
    expect(diskFault(errno('EACCES'))).toBe('denied');
    expect(diskFault(errno('ENOTDIR'))).toBe('not-a-folder');
    expect(diskFault(new Error('Database failed to open', { cause: new Error('wrapped', { cause: errno('ENOSPC') }) }))).toBe('full');
  });

  it("reads git's and LevelDB's wording", () => {
    expect(diskFault('fatal: unable to write loose object file: No space left on device')).toBe('full');
    expect(diskFault(new Error('IO error: /s/db/LOCK: Read-only file system'))).toBe('read-only');
    expect(diskFault('error: unable to create temporary file: Disk quota exceeded')).toBe('quota');
    expect(diskFault('fatal: could not open file: Permission denied')).toBe('denied');
  });

  it('leaves everything else alone', () => {
    expect(diskFault(errno('ENOENT'))).toBeNull();
    expect(diskFault(new Error('git rev-parse failed (exit 128): fatal: bad revision'))).toBeNull();
    expect(diskFault(undefined)).toBeNull();
  });
});

describe('diskError', () => {
  it('names the folder, says what happened and gives a hint, in the typed error asked for', () => {
    const err = diskError(StoreError, errno('ENOSPC'), '/srv/state/db', 'write experiment 4 to the store');
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toBeInstanceOf(SwarmError);
    expect(err!.message).toBe('cannot write experiment 4 to the store: the disk holding /srv/state/db is full (ENOSPC: no space left on device)');
    expect(err!.hint).toMatch(/free some space/);
    expect(diskError(StoreError, errno('ENOENT'), '/srv/state/db', 'open the store')).toBeNull();
  });

  it('has a message and a hint for every fault', () => {
    for (const fault of ['full', 'quota', 'read-only', 'denied', 'not-a-folder'] as const) {
      const { message, hint } = describeDiskFault(fault, '/srv/state', 'open the store');
      expect(message).toMatch(/^cannot open the store: .*\/srv\/state.*\(E[A-Z]+/);
      expect(hint.length).toBeGreaterThan(10);
    }
  });
});

describe('probeDiskFault', () => {
  it('finds nothing wrong with a writable folder and leaves no probe file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarm-probe-'));
    dirs.push(dir);
    expect(await probeDiskFault(dir)).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });

  it('finds a folder that cannot exist because part of its path is a file (as root too)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarm-probe-'));
    dirs.push(dir);
    await writeFile(join(dir, 'file'), 'x');
    expect(await probeDiskFault(join(dir, 'file', 'sub'))).toBe('not-a-folder');
  });
});
