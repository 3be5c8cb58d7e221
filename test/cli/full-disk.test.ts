import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { bwrapArgs, bwrapMountsUnavailable } from '../helpers/bwrap.js';
import { STUB_ENV } from '../helpers/cli.js';
import { CLI } from '../helpers/paths.js';

const env = { ...STUB_ENV, SWARM_STUB_SLEEP: '0' };
const DISK_BYTES = 8 * 1024 * 1024;
/** KiB left free on the disk before each round: from "full at start" to "full after a few experiments". */
const SLACKS_KIB = (process.env.SWARM_DISK_SLACKS ?? '0 4 8 12 16 20 24 28 32 40 48 64 96 128 192').split(/\s+/).map(Number);

/**
 * Everything happens inside one bwrap, since its small tmpfs vanishes when bwrap exits: a healthy
 * start, then per round the disk is filled up to `slack` KiB and `swarm join` runs until it stops;
 * the space is freed, and what is left on the disk is read and copied out to the host.
 */
const SCRIPT = `
set -u
S="$MNT/state"
swarm() { node "$CLI" "$@"; }
swarm join --state "$S" --budget 1 --max-experiments 3 >"$OUT/start.err" 2>&1; echo $? >"$OUT/start.rc"
swarm log --json --state "$S" >"$OUT/start.json"
round=0
for slack in $SLACKS; do
  round=$((round + 1)); R="$OUT/round$round"; mkdir -p "$R"
  dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
  truncate -s "-$slack"K "$MNT/filler"
  df -k "$MNT" >"$R/df"
  timeout -k 10 120 node "$CLI" join --state "$S" --budget 1 --max-experiments 400 >"$R/full.out" 2>"$R/full.err"; echo $? >"$R/full.rc"
  rm -f "$MNT/filler"
  swarm log --json --state "$S" >"$R/log.json" 2>"$R/log.err"; echo $? >"$R/log.rc"
  git --git-dir "$S/workspace.git" fsck --strict --no-dangling >"$R/fsck.out" 2>&1; echo $? >"$R/fsck.rc"
  cp -a "$S" "$R/state"
done
swarm join --state "$S" --budget 1 --max-experiments 2 >"$OUT/resume.err" 2>&1; echo $? >"$OUT/resume.rc"
swarm log --json --state "$S" >"$OUT/resumed.json"
git --git-dir "$S/workspace.git" fsck --strict --no-dangling >"$OUT/fsck.out" 2>&1; echo $? >"$OUT/fsck.rc"
cp -a "$S" "$OUT/final"
`;

const unavailable = bwrapMountsUnavailable();

describe.skipIf(unavailable !== null)('swarm join on a disk that fills up', () => {
  let root: string;
  let out: string;
  const read = (...p: string[]) => readFile(join(out, ...p), 'utf8');
  const code = async (...p: string[]) => Number((await read(...p)).trim());
  const records = async (...p: string[]) => JSON.parse(await read(...p)) as ExperimentRecord[];
  const git = (state: string, args: string[]) => execa('git', ['--git-dir', join(state, 'workspace.git'), ...args], { reject: false });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'swarm-fulldisk-'));
    out = join(root, 'out');
    const mnt = join(root, 'disk');
    await Promise.all([mkdir(out), mkdir(mnt)]);
    await writeFile(join(root, 'script.sh'), SCRIPT);
    const r = await execa('bwrap', bwrapArgs(['--size', String(DISK_BYTES), '--tmpfs', mnt], ['sh', join(root, 'script.sh')]), {
      env: { ...env, MNT: mnt, OUT: out, CLI, SLACKS: SLACKS_KIB.join(' ') }, reject: false, all: true, timeout: 900_000,
    });
    expect(r.exitCode, r.all).toBe(0);
  }, 900_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('starts healthy', async () => {
    expect(await code('start.rc'), await read('start.err')).toBe(0);
    expect((await records('start.json')).length).toBeGreaterThanOrEqual(3);
  });

  it('stops with one clear line naming the full disk and a hint, never a stack trace', async () => {
    for (let round = 1; round <= SLACKS_KIB.length; round++) {
      const err = await read(`round${round}`, 'full.err');
      const where = `round ${round} (${SLACKS_KIB[round - 1]} KiB free):\n${err}`;
      expect(await code(`round${round}`, 'full.rc'), where).toBe(1);
      const lines = err.trimEnd().split('\n');
      const errors = lines.filter((l) => l.startsWith('swarm: '));
      expect(errors, where).toHaveLength(1);
      expect(errors[0], where).toMatch(/ENOSPC: no space left on device/);
      expect(errors[0], where).toMatch(new RegExp(`the disk holding ${join(root, 'disk', 'state')}\\S* is full`));
      expect(lines.at(-1), where).toMatch(/^ {2}hint: free some space on that disk/);
      expect(err, where).not.toMatch(/^\s+at |node:internal|Node\.js v\d|triggerUncaughtException|\{\s*$/m);
    }
  });

  it('loses no finished record: each round keeps what was recorded before it and what it printed as done', async () => {
    let before = await records('start.json');
    for (let round = 1; round <= SLACKS_KIB.length; round++) {
      const where = `round ${round} (${SLACKS_KIB[round - 1]} KiB free)`;
      expect(await code(`round${round}`, 'log.rc'), `${where}: ${await read(`round${round}`, 'log.err')}`).toBe(0);
      const now = await records(`round${round}`, 'log.json');
      for (const r of before.filter((b) => b.status !== 'running')) expect(now.find((n) => n.id === r.id), where).toEqual(r);
      // every experiment the node reported as finished in this round is stored with that verdict
      const err = await read(`round${round}`, 'full.err');
      for (const [, seq, status] of err.matchAll(/^\S+ #(\d+) (KEEP|DISCARD|CRASH|TIMEOUT)\b/gm)) {
        expect(now.find((n) => n.seq === Number(seq))?.status, `${where}: #${seq}`).toBe(status!.toLowerCase());
      }
      expect(now.map((r) => r.seq), where).toEqual(now.map((_, i) => i + 1));
      expect(now.filter((r) => r.status === 'running').length, where).toBeLessThanOrEqual(1);
      before = now;
    }
  });

  it('leaves the workspace whole: git fsck is clean, every recorded commit exists, best is at or behind the last keep', async () => {
    for (let round = 1; round <= SLACKS_KIB.length; round++) {
      const where = `round ${round} (${SLACKS_KIB[round - 1]} KiB free)`;
      const fsck = await read(`round${round}`, 'fsck.out');
      expect(await code(`round${round}`, 'fsck.rc'), `${where}: ${fsck}`).toBe(0);
      expect(fsck, where).not.toMatch(/missing|broken|error|bad|corrupt|empty/i);
      const state = join(out, `round${round}`, 'state');
      const now = await records(`round${round}`, 'log.json');
      for (const r of now.filter((n) => n.commit !== null)) {
        expect((await git(state, ['cat-file', '-e', `${r.commit}^{commit}`])).exitCode, `${where}: #${r.seq} ${r.commit}`).toBe(0);
      }
      // best moves after the keep is recorded: a stop in between leaves it one keep behind, repaired on resume
      const keep = now.filter((r) => r.status === 'keep').at(-1)!;
      const best = (await git(state, ['rev-parse', 'refs/heads/best'])).stdout.trim();
      expect((await git(state, ['merge-base', '--is-ancestor', best, keep.commit!])).exitCode, `${where}: best ${best}, last keep #${keep.seq}`).toBe(0);
    }
  });

  it('resumes once space is freed, with store and workspace in agreement', async () => {
    expect(await code('resume.rc'), await read('resume.err')).toBe(0);
    const last = await records(`round${SLACKS_KIB.length}`, 'log.json');
    const all = await records('resumed.json');
    for (const r of last.filter((b) => b.status !== 'running')) expect(all.find((n) => n.id === r.id)).toEqual(r);
    expect(all.length).toBeGreaterThan(last.length);
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.some((r) => r.status === 'running')).toBe(false);
    expect(await code('fsck.rc'), await read('fsck.out')).toBe(0);
    const keep = all.filter((r) => r.status === 'keep').at(-1)!;
    const best = await git(join(out, 'final'), ['rev-parse', 'refs/heads/best']);
    expect(best.stdout.trim()).toBe(keep.commit);
    // the copy on the host opens too (LevelDB is whole, not only readable inside the sandbox)
    expect(existsSync(join(out, 'final', 'db', 'CURRENT'))).toBe(true);
    const log = await execa('node', [CLI, 'log', '--json', '--state', join(out, 'final')], { env, reject: false });
    expect(log.exitCode, log.stderr).toBe(0);
    expect(JSON.parse(log.stdout)).toEqual(all);
  });
});
