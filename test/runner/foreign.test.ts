/** The foreign harness's data view in a run folder: a link to the read-only cache, never following what a run left. */
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOREIGN_MOUNT, foreignView } from '../../src/runner/foreign.js';

let root: string;
let cache: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'swarm-foreign-'));
  cache = path.join(root, 'cache');
  await mkdir(cache);
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

describe('foreignView', () => {
  it('links HOME/.cache/autoresearch to the bind when fenced, to the host folder when not; nothing without a cache', async () => {
    const run = path.join(root, 'run1');
    await mkdir(run);
    expect(await foreignView(run, cache, true)).toEqual([{ src: cache, dest: FOREIGN_MOUNT }]);
    expect(await readlink(path.join(run, '.cache', 'autoresearch'))).toBe(FOREIGN_MOUNT);
    expect(await foreignView(run, cache, false)).toEqual([]);
    expect(await readlink(path.join(run, '.cache', 'autoresearch'))).toBe(cache);
    expect(await foreignView(run, path.join(root, 'no-cache'), true)).toEqual([]);
  });

  it("a resumed run's planted links are replaced, never followed: nothing outside the run folder is touched", async () => {
    const victim = path.join(root, 'victim');
    await mkdir(path.join(victim, 'autoresearch'), { recursive: true });
    await writeFile(path.join(victim, 'autoresearch', 'keep.txt'), 'mine');
    const run = path.join(root, 'run2');
    await mkdir(run);
    await symlink(victim, path.join(run, '.cache')); // left by the last attempt's train.py
    await foreignView(run, cache, true);
    expect(await readFile(path.join(victim, 'autoresearch', 'keep.txt'), 'utf8')).toBe('mine');
    expect(await readlink(path.join(run, '.cache', 'autoresearch'))).toBe(FOREIGN_MOUNT);
    expect(await readlink(path.join(victim, 'autoresearch')).catch(() => 'not a link')).toBe('not a link');
  });
});
