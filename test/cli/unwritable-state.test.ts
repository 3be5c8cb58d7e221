import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { bwrapArgs, bwrapMountsUnavailable } from '../helpers/bwrap.js';
import { cli, STUB_ENV } from '../helpers/cli.js';
import { CLI } from '../helpers/paths.js';

const env = { ...STUB_ENV, SWARM_STUB_SLEEP: '0' };
const swarm = cli({ SWARM_STUB_SLEEP: '0' });
/** `swarm` with `path` mounted read-only on top of the host's file system. */
const swarmReadOnly = (path: string, args: string[]) =>
  execa('bwrap', bwrapArgs(['--ro-bind', path, path], ['node', CLI, ...args]), { env, reject: false, all: true });

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) {
    await execa('chmod', ['-R', 'u+w', d], { reject: false });
    await rm(d, { recursive: true, force: true });
  }
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'swarm-unwritable-'));
  dirs.push(d);
  return d;
}

/** Every file under `dir` with a hash of its bytes, and every folder: equal snapshots mean nothing was touched. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join((e as { parentPath?: string; path?: string }).parentPath ?? (e as { path?: string }).path ?? dir, e.name);
    out[relative(dir, p)] = e.isFile() ? createHash('sha256').update(await readFile(p)).digest('hex') : e.isDirectory() ? 'dir' : 'other';
  }
  return out;
}

async function records(state: string): Promise<ExperimentRecord[]> {
  const r = await swarm(['log', '--json', '--state', state]);
  expect(r.exitCode, r.all).toBe(0);
  return JSON.parse(r.stdout) as ExperimentRecord[];
}

/** Exit 1 with one `swarm:` line matching `message` and a hint under it: no stack trace, no second error. */
function expectOneClearError(r: { exitCode?: number; all?: string }, message: RegExp, hint: RegExp): void {
  const all = r.all ?? '';
  expect(r.exitCode, all).toBe(1);
  const lines = all.trimEnd().split('\n');
  const errors = lines.filter((l) => l.startsWith('swarm: '));
  expect(errors, all).toHaveLength(1);
  expect(errors[0], all).toMatch(message);
  expect(lines.at(-1), all).toMatch(/^ {2}hint: /);
  expect(lines.at(-1), all).toMatch(hint);
  expect(all).not.toMatch(/^\s+at |node:internal|Node\.js v\d|triggerUncaughtException/m);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('swarm join with a state folder it cannot write', () => {
  it('names a state path under a regular file (ENOTDIR, also as root) and creates nothing', async () => {
    const dir = await tmp();
    const file = join(dir, 'file');
    await writeFile(file, 'not a folder\n');
    const r = await swarm(['join', '--state', join(file, 'state'), '--budget', '1', '--max-experiments', '1']);
    expectOneClearError(r, new RegExp(`${escape(join(file, 'state'))}\\S* cannot be a folder, part of its path is a file \\(ENOTDIR\\)`), /--state DIR/);
    expect(await readdir(dir)).toEqual(['file']);
    expect(await readFile(file, 'utf8')).toBe('not a folder\n');
  });

  it.skipIf(process.getuid?.() === 0)('names a folder without write permission (EACCES) and leaves it as it was', async () => {
    const state = join(await tmp(), 'state');
    expect((await swarm(['join', '--state', state, '--budget', '1', '--max-experiments', '1'])).exitCode).toBe(0);
    await execa('chmod', ['-R', 'a-w', state]);
    const before = await snapshot(state);
    const r = await swarm(['join', '--state', state, '--budget', '1', '--max-experiments', '1']);
    expectOneClearError(r, new RegExp(`no permission to write in ${escape(state)}\\S* \\(EACCES`), /writable by this user|--state DIR/);
    expect(await snapshot(state)).toEqual(before);
    await chmod(state, 0o700);
  });
});

const unavailable = bwrapMountsUnavailable();

describe.skipIf(unavailable !== null)('swarm join on a read-only mount (bwrap --ro-bind)', () => {
  // one healthy state, shared by the tests of this block in order
  let root: string;
  let state: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'swarm-readonly-'));
    state = join(root, 'state');
    const r = await swarm(['join', '--state', state, '--budget', '1', '--max-experiments', '2']);
    expect(r.exitCode, r.all).toBe(0);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.each([
    ['the whole state folder', ''],
    ['the store', 'db'],
  ])('%s read-only: one clear line naming the store, and not one byte of the state changes', async (_, sub) => {
    const before = await snapshot(state);
    const r = await swarmReadOnly(join(state, sub), ['join', '--state', state, '--budget', '1', '--max-experiments', '1']);
    expectOneClearError(r, new RegExp(`cannot open the store: ${escape(join(state, 'db'))} is on a read-only file system \\(EROFS\\)`), /remount that disk read-write/);
    expect(await snapshot(state)).toEqual(before);
  });

  it('the workspace read-only: one clear line naming it; the workspace and the records stay as they were', async () => {
    const [ws, recs] = [await snapshot(join(state, 'workspace.git')), await records(state)];
    const r = await swarmReadOnly(join(state, 'workspace.git'), ['join', '--state', state, '--budget', '1', '--max-experiments', '1']);
    expectOneClearError(r, new RegExp(`cannot \\S.*: ${escape(join(state, 'workspace.git'))} is on a read-only file system \\(EROFS\\)`), /remount that disk read-write/);
    expect(await snapshot(join(state, 'workspace.git'))).toEqual(ws);
    expect(await records(state)).toEqual(recs);
  });

  it('the run folders read-only: one clear line naming the run folder; the next join resumes that run', async () => {
    const recs = await records(state);
    const r = await swarmReadOnly(join(state, 'runs'), ['join', '--state', state, '--budget', '1', '--max-experiments', '1']);
    expectOneClearError(r, new RegExp(`cannot create the run folder: ${escape(join(state, 'runs'))}/\\S+ is on a read-only file system \\(EROFS\\)`), /remount that disk read-write/);
    const stopped = await records(state);
    for (const rec of recs) expect(stopped.find((s) => s.id === rec.id)).toEqual(rec);
    // The box failed, not the candidate: the stop is not counted as an attempt.
    expect(stopped.at(-1)).toMatchObject({ seq: recs.length + 1, status: 'running', attempts: 0 });

    const again = await swarm(['join', '--state', state, '--budget', '1', '--max-experiments', '1']);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).toMatch(new RegExp(`#${recs.length + 1} was interrupted; running it again`));
    const after = await records(state);
    expect(after.at(-1)).toMatchObject({ id: stopped.at(-1)!.id, attempts: 1 });
    expect(['keep', 'discard']).toContain(after.at(-1)!.status);
  });
});
