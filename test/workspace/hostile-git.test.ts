/**
 * Attack: a payload that reached the workspace's git repository (once through a run folder whose
 * name came from a peer's `../` experiment id) plants a hook or a config entry, or the node's
 * environment carries GIT_* variables; the node's own git calls then ran the payload. Each test
 * plants one and asserts its marker file is never written.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WorkspaceError } from '../../src/core/index.js';
import { openWorkspace, type Workspace } from '../../src/workspace/index.js';

const BASELINE = 'LR = 0.02\nDEPTH = 8\n';
let root: string;
let n = 0;
beforeAll(async () => { root = await mkdtemp(path.join(os.tmpdir(), 'swarm-git-')); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

const fresh = (): Promise<Workspace> => openWorkspace({ dir: path.join(root, `ws${++n}`), baseline: BASELINE });
const marker = () => path.join(root, `pwned-${n}`);

async function hook(dir: string, name: string, target: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, name), `#!/bin/sh\necho pwned > '${target}'\n`);
  await chmod(path.join(dir, name), 0o755);
}

/** Every kind of git call the node makes: stage (hash-object, mktree, commit-tree, update-ref), diff, rebase, keep. */
async function work(ws: Workspace): Promise<void> {
  const best = await ws.best();
  const a = await ws.stage(`${String(n).padStart(9, '0')}-0000000a`, BASELINE.replace('0.02', '0.03'), 'a');
  await ws.diff(a.commit);
  await ws.keep(a.commit);
  const b = await ws.stage(`${String(n).padStart(9, '0')}-0000000b`, BASELINE.replace('8', '9'), 'b', best);
  await ws.rebase(b.commit);
}

describe('git in the workspace runs nothing it finds there', () => {
  const saved = { ...process.env };
  afterEach(() => { process.env = { ...saved }; });

  it('never runs a hook planted in the repository', async () => {
    const ws = await fresh();
    for (const name of ['reference-transaction', 'post-commit', 'pre-auto-gc', 'post-index-change', 'post-rewrite']) {
      await hook(path.join(ws.dir, 'hooks'), name, marker());
    }
    await work(ws);
    expect(existsSync(marker())).toBe(false);
  });

  it('refuses a planted config entry that would run a program, and runs none', async () => {
    for (const entry of ['[core]\n\tfsmonitor = "touch MARK"\n', '[alias]\n\tdiff = "!touch MARK"\n', '[diff]\n\texternal = "touch MARK"\n', '[include]\n\tpath = /tmp/x\n', '[core]\n\tsshCommand = "touch MARK"\n']) {
      const ws = await fresh();
      await appendFile(path.join(ws.dir, 'config'), entry.replace('MARK', marker()));
      const err = await work(ws).then(() => null, (e: unknown) => e);
      expect(err, entry).toBeInstanceOf(WorkspaceError);
      expect((err as Error).message).toMatch(/git config .* which this node never writes/);
      expect(existsSync(marker()), entry).toBe(false);
    }
  });

  it('ignores GIT_* variables in the node\'s environment (hooks path, config, exec path, another repository)', async () => {
    const ws = await fresh();
    const mark = marker();
    const evil = path.join(root, `evil-${n}`);
    await hook(path.join(evil, 'hooks'), 'reference-transaction', mark);
    await hook(path.join(evil, 'exec'), 'git-merge-tree', mark);
    process.env.GIT_CONFIG_PARAMETERS = `'core.hooksPath'='${path.join(evil, 'hooks')}'`;
    process.env.GIT_CONFIG_COUNT = '1';
    process.env.GIT_CONFIG_KEY_0 = 'core.fsmonitor';
    process.env.GIT_CONFIG_VALUE_0 = `touch ${mark}`;
    process.env.GIT_EXEC_PATH = path.join(evil, 'exec');
    process.env.GIT_DIR = evil;
    process.env.GIT_TEMPLATE_DIR = evil;
    await work(ws);
    const again = await fresh();
    await work(again);
    expect(existsSync(mark)).toBe(false);
    expect(existsSync(path.join(again.dir, 'hooks', 'reference-transaction'))).toBe(false);
  });
});
