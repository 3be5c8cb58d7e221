/**
 * Attack: a replicated result whose experiment id held `../` put its run folder, and the files the
 * run wrote there, inside the workspace's git repository. Run folders of code from elsewhere are
 * now named by a hash, and every run folder path is checked to stay inside the runs folder.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateError } from '../../src/core/index.js';
import { runFolderName } from '../../src/loop/index.js';
import { pathInside } from '../../src/store/index.js';

let root: string;
beforeAll(async () => { root = await mkdtemp(path.join(os.tmpdir(), 'swarm-runs-')); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

describe('run folders', () => {
  it('are named by a hash, whatever the peer id and experiment id hold', () => {
    const name = runFolderName('verify', '12D3KooWPeer', '../../workspace/hooks');
    expect(name).toMatch(/^verify-[0-9a-f]{16}$/);
    expect(runFolderName('verify', '12D3KooWPeer', 'a')).not.toBe(runFolderName('verify', '12D3KooWPeer', 'b'));
  });

  it('never lead outside the runs folder, through `..` or a planted link', async () => {
    const runs = path.join(root, 'runs');
    const outside = path.join(root, 'workspace');
    await mkdir(runs, { recursive: true });
    await mkdir(outside, { recursive: true });
    await symlink(outside, path.join(runs, 'link'));
    expect(await pathInside(runs, '00001-abc')).toBe(path.join(await realRoot(runs), '00001-abc'));
    for (const name of ['../workspace', 'x/../../workspace/hooks', 'link', 'link/hooks', '/etc', '.', '']) {
      await expect(pathInside(runs, name), name).rejects.toBeInstanceOf(StateError);
    }
  });
});

async function realRoot(p: string): Promise<string> {
  const { realpath } = await import('node:fs/promises');
  return realpath(p);
}
