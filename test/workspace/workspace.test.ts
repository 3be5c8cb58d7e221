import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceHash, WorkspaceError } from '../../src/core/index.js';
import { openWorkspace, type Workspace } from '../../src/workspace/index.js';

const BASELINE = `"""A tiny stand-in for train.py."""
LR = 0.02
WEIGHT_DECAY = 0.0
BATCH = 32

def model():
    return "gpt"

def optimizer():
    return "adamw"

def schedule():
    return "cosine"

DEPTH = 8
WIDTH = 512
`;

const edit = (src: string, from: string, to: string): string => {
  expect(src).toContain(from);
  return src.replace(from, to);
};

let root: string;
let n = 0;
beforeAll(async () => { root = await mkdtemp(path.join(os.tmpdir(), 'swarm-ws-')); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

async function fresh(): Promise<Workspace> {
  return openWorkspace({ dir: path.join(root, `ws${++n}`), baseline: BASELINE });
}

function rawGit(ws: Workspace, ...args: string[]): Promise<string> {
  return execa('git', [`--git-dir=${ws.dir}`, ...args], { env: { GIT_CONFIG_GLOBAL: '/dev/null' } }).then((r) => r.stdout.trim());
}

describe('workspace', () => {
  it('creates a bare repository whose best is the baseline', async () => {
    const ws = await fresh();
    const best = await ws.best();
    expect(best.source).toBe(BASELINE);
    expect(best.hash).toBe(sourceHash(BASELINE));
    expect(best.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await rawGit(ws, 'rev-parse', '--is-bare-repository')).toBe('true');
    expect(existsSync(path.join(ws.dir, 'train.py'))).toBe(false);
    expect(await rawGit(ws, 'ls-tree', '--name-only', best.commit)).toBe('train.py');
    expect(await ws.experiments()).toEqual(new Map());
    expect(await ws.diff(best.commit)).toBe('');
    expect(await ws.source(best.commit)).toBe(BASELINE);
  });

  it('stage makes a commit on best, kept under refs/experiments, with the hypothesis and an id trailer', async () => {
    const ws = await fresh();
    const base = await ws.best();
    const src = edit(BASELINE, 'LR = 0.02', 'LR = 0.04');
    const s = await ws.stage('exp-001', src, 'Double the learning rate\n\nIt was too low.', undefined);
    expect(s.parent).toEqual(base);
    expect(s.source).toBe(src);
    expect(s.hash).toBe(sourceHash(src));
    expect(s.diff.startsWith('diff --git a/train.py b/train.py\n')).toBe(true);
    expect(s.diff).toContain('--- a/train.py\n+++ b/train.py\n');
    expect(s.diff).toContain('-LR = 0.02\n+LR = 0.04\n');
    expect(await ws.diff(s.commit)).toBe(s.diff);
    expect((await ws.best()).commit).toBe(base.commit); // staging does not move best
    expect(await ws.experiments()).toEqual(new Map([['exp-001', s.commit]]));
    expect(await rawGit(ws, 'log', '-1', '--format=%s', s.commit)).toBe('Double the learning rate');
    expect(await rawGit(ws, 'log', '-1', '--format=%(trailers:key=Swarm-Experiment,valueonly)', s.commit)).toBe('exp-001');
    expect(await rawGit(ws, 'log', '-1', '--format=%B', s.commit)).toContain('It was too low.');
  });

  it('keep advances best; a discarded experiment leaves best alone but stays retrievable', async () => {
    const ws = await fresh();
    const a = await ws.stage('a', edit(BASELINE, 'BATCH = 32', 'BATCH = 16'), 'halve the batch');
    await ws.keep(a.commit);
    const best = await ws.best();
    expect(best.commit).toBe(a.commit);
    expect(best.source).toBe(a.source);
    await ws.keep(a.commit); // idempotent

    const b = await ws.stage('b', edit(a.source, 'WIDTH = 512', 'WIDTH = 768'), 'wider');
    expect(b.parent.commit).toBe(a.commit);
    // discard = do nothing
    expect((await ws.best()).commit).toBe(a.commit);
    expect(await ws.diff(b.commit)).toContain('-WIDTH = 512\n+WIDTH = 768');
    expect(await ws.source(b.commit)).toBe(b.source);
    expect(await ws.source(b.commit.slice(0, 10))).toBe(b.source);
    expect((await ws.experiments()).get('b')).toBe(b.commit);
  });

  it('keep of a commit that does not descend from best is refused', async () => {
    const ws = await fresh();
    const a = await ws.stage('a', edit(BASELINE, 'LR = 0.02', 'LR = 0.03'), 'lr up');
    const b = await ws.stage('b', edit(BASELINE, 'DEPTH = 8', 'DEPTH = 9'), 'deeper');
    await ws.keep(a.commit);
    await expect(ws.keep(b.commit)).rejects.toBeInstanceOf(WorkspaceError);
    await expect(ws.keep(b.commit)).rejects.toThrow(/does not descend from best/);
    expect((await ws.best()).commit).toBe(a.commit);
    // going backwards (to the baseline) is refused too
    await expect(ws.keep(a.parent.commit)).rejects.toBeInstanceOf(WorkspaceError);
    await expect(ws.keep('deadbeefdeadbeef')).rejects.toBeInstanceOf(WorkspaceError);
    await expect(ws.keep('--all')).rejects.toBeInstanceOf(WorkspaceError);
  });

  it('stage on an explicit parent', async () => {
    const ws = await fresh();
    const a = await ws.stage('a', edit(BASELINE, 'LR = 0.02', 'LR = 0.03'), 'lr up');
    const b = await ws.stage('b', edit(a.source, 'DEPTH = 8', 'DEPTH = 9'), 'deeper on a', a);
    expect(b.parent.commit).toBe(a.commit);
    expect(b.diff).toContain('+DEPTH = 9');
    expect(b.diff).not.toContain('LR');
  });

  it('rebase: edits to different constants combine cleanly', async () => {
    const ws = await fresh();
    const a = await ws.stage('a', edit(BASELINE, 'LR = 0.02', 'LR = 0.04'), 'lr up');
    const b = await ws.stage('b', edit(BASELINE, 'DEPTH = 8', 'DEPTH = 9'), 'one more layer');
    await ws.keep(a.commit);
    const r = await ws.rebase(b.commit);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.staged.parent.commit).toBe(a.commit);
    expect(r.staged.source).toBe(edit(edit(BASELINE, 'LR = 0.02', 'LR = 0.04'), 'DEPTH = 8', 'DEPTH = 9'));
    expect(r.staged.hash).toBe(sourceHash(r.staged.source));
    expect(r.staged.diff).toContain('-DEPTH = 8\n+DEPTH = 9');
    expect(r.staged.diff).not.toContain('LR');
    expect(await ws.diff(r.staged.commit)).toBe(r.staged.diff);
    expect(await rawGit(ws, 'log', '-1', '--format=%s', r.staged.commit)).toBe('one more layer');
    expect(await rawGit(ws, 'log', '-1', '--format=%(trailers:key=Swarm-Rebased-From,valueonly)', r.staged.commit)).toBe(b.commit);
    await ws.keep(r.staged.commit);
    expect((await ws.best()).source).toBe(r.staged.source);
    // rebasing onto its own parent is a no-op
    const same = await ws.rebase(b.commit, b.parent);
    expect(same.ok && same.staged.commit).toBe(b.commit);
  });

  it('rebase: edits to the same line conflict → ok:false with the hunk', async () => {
    const ws = await fresh();
    const a = await ws.stage('a', edit(BASELINE, 'LR = 0.02', 'LR = 0.04'), 'lr up');
    const c = await ws.stage('c', edit(BASELINE, 'LR = 0.02', 'LR = 0.01'), 'lr down');
    await ws.keep(a.commit);
    const r = await ws.rebase(c.commit);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.conflict).toContain('train.py');
    expect(r.conflict).toContain('LR = 0.04');
    expect(r.conflict).toContain('LR = 0.01');
    expect(r.conflict).toContain(`<<<<<<< onto ${a.commit.slice(0, 7)}`);
    expect(r.conflict).toContain(`>>>>>>> ${c.commit.slice(0, 7)}`);
    expect((await ws.best()).commit).toBe(a.commit);
    // explicit onto
    const r2 = await ws.rebase(c.commit, a);
    expect(r2.ok).toBe(false);
    await expect(ws.rebase(a.parent.commit)).rejects.toBeInstanceOf(WorkspaceError); // the root
  });

  it('reopen (as after a restart) keeps everything; a different baseline is ignored', async () => {
    const dir = path.join(root, `ws${++n}`);
    const ws1 = await openWorkspace({ dir, baseline: BASELINE });
    const a = await ws1.stage('a', edit(BASELINE, 'LR = 0.02', 'LR = 0.04'), 'lr up');
    const b = await ws1.stage('b', edit(a.source, 'BATCH = 32', 'BATCH = 64'), 'bigger batch', a);
    await ws1.keep(a.commit);
    const ws2 = await openWorkspace({ dir, baseline: 'print("another baseline")\n' });
    expect(await ws2.best()).toEqual(await ws1.best());
    expect(await ws2.experiments()).toEqual(new Map([['a', a.commit], ['b', b.commit]]));
    expect(await ws2.diff(b.commit)).toBe(b.diff);
    expect(await ws2.source(b.commit)).toBe(b.source);
    expect(await rawGit(ws2, 'rev-list', '--max-parents=0', 'best')).toBe(a.parent.commit);
  });

  it('concurrent stage calls do not corrupt the repository', async () => {
    const ws = await fresh();
    const sources = Array.from({ length: 24 }, (_, i) => edit(BASELINE, 'WIDTH = 512', `WIDTH = ${600 + (i % 12)}`));
    const staged = await Promise.all(sources.map((s, i) => ws.stage(`c${i}`, s, `width ${i}`)));
    const exps = await ws.experiments();
    expect(exps.size).toBe(24);
    for (const [i, s] of staged.entries()) {
      expect(exps.get(`c${i}`)).toBe(s.commit);
      expect(await ws.source(s.commit)).toBe(sources[i]);
    }
    await rawGit(ws, 'fsck', '--strict', '--no-dangling');
    // concurrent keeps of two siblings: exactly one wins
    const results = await Promise.allSettled([ws.keep(staged[0]!.commit), ws.keep(staged[1]!.commit)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect([staged[0]!.commit, staged[1]!.commit]).toContain((await ws.best()).commit);
  });

  it('stage: a retry with the same id and content returns the same commit; different content is refused', async () => {
    const ws = await fresh();
    const src = edit(BASELINE, 'LR = 0.02', 'LR = 0.05');
    const a1 = await ws.stage('same', src, 'lr');
    const a2 = await ws.stage('same', src, 'lr (retry)');
    expect(a2.commit).toBe(a1.commit);
    await expect(ws.stage('same', BASELINE + '# x\n', 'other')).rejects.toBeInstanceOf(WorkspaceError);
    await expect(ws.stage('../evil', src, 'x')).rejects.toBeInstanceOf(WorkspaceError);
    await expect(ws.stage('a b', src, 'x')).rejects.toBeInstanceOf(WorkspaceError);
  });

  it('preserves train.py byte for byte (no trailing newline, unicode, CRLF)', async () => {
    const ws = await fresh();
    for (const [i, src] of ['x = 1', 'π = "héllo ✓"\n\n\n', 'a = 1\r\nb = 2\r\n', ''].entries()) {
      const s = await ws.stage(`b${i}`, src, 'bytes');
      expect(await ws.source(s.commit)).toBe(src);
      expect(s.hash).toBe(sourceHash(src));
    }
  });

  it('a corrupt or foreign folder → WorkspaceError with a hint; stale ref locks are cleared', async () => {
    const junk = path.join(root, 'junk');
    await mkdir(junk, { recursive: true });
    await writeFile(path.join(junk, 'notes.txt'), 'hello');
    await expect(openWorkspace({ dir: junk, baseline: BASELINE })).rejects.toMatchObject({
      name: 'WorkspaceError', hint: expect.stringContaining('move the folder aside'),
    });
    await writeFile(path.join(root, 'afile'), 'x');
    await expect(openWorkspace({ dir: path.join(root, 'afile'), baseline: BASELINE })).rejects.toBeInstanceOf(WorkspaceError);

    // best deleted but experiments there
    const ws = await fresh();
    await ws.stage('a', BASELINE + '# a\n', 'a');
    await rawGit(ws, 'update-ref', '-d', 'refs/heads/best');
    await expect(openWorkspace({ dir: ws.dir, baseline: BASELINE })).rejects.toBeInstanceOf(WorkspaceError);

    // a lock left by a process killed mid update-ref
    const ws2 = await fresh();
    const lock = path.join(ws2.dir, 'refs/heads/best.lock');
    await writeFile(lock, '');
    const old = new Date(Date.now() - 3600_000);
    await utimes(lock, old, old);
    const ws3 = await openWorkspace({ dir: ws2.dir, baseline: BASELINE });
    const s = await ws3.stage('x', BASELINE + '# x\n', 'x');
    await ws3.keep(s.commit);
    expect((await ws3.best()).commit).toBe(s.commit);
  });
});

describe('aligned line merge', () => {
  it('combines edits of adjacent lines that git alone calls a conflict, and still refuses real ones', async () => {
    const { mergeAlignedLines } = await import('../../src/workspace/workspace.js');
    const base = 'A = 1\nB = 2\nC = 3\n';
    expect(mergeAlignedLines(base, 'A = 1\nB = 5\nC = 3\n', 'A = 9\nB = 2\nC = 3\n')).toBe('A = 9\nB = 5\nC = 3\n');
    expect(mergeAlignedLines(base, 'A = 1\nB = 5\nC = 3\n', 'A = 1\nB = 6\nC = 3\n')).toBeNull();
    expect(mergeAlignedLines(base, 'A = 1\nB = 5\nC = 3\n', 'A = 1\nB = 2\nC = 3\nD = 4\n')).toBeNull();
  });
});
