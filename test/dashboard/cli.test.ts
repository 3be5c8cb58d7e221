/** `swarm dashboard --state DIR`: a stopped node's page, served from its store by the built CLI. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SharedRecord } from '../../src/store/index.js';
import { openStore } from '../../src/store/index.js';
import { CLI } from '../helpers/paths.js';
import { noiseFloors, ownRecords, sharedRecords } from './fixtures.js';

/** Starts the command and resolves with the URL it printed. */
async function start(state: string, listen: string, env: Record<string, string> = {}) {
  const proc = execa('node', [CLI, 'dashboard', '--state', state, '--listen', listen], { reject: false, all: true, env: { HOME: tmpdir(), ...env } });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    proc.all!.on('data', (c: Buffer) => {
      seen += c.toString();
      const m = /dashboard of .*: (http:\/\/\S+)/.exec(seen);
      if (m) resolve(m[1]!);
    });
    void proc.finally(() => reject(new Error(`swarm dashboard exited:\n${seen}`)));
  });
  return { proc, url };
}

describe('swarm dashboard', () => {
  let state: string;
  beforeAll(async () => {
    state = await mkdtemp(join(tmpdir(), 'swarm-dash-cli-'));
    const store = await openStore(join(state, 'db'));
    const records = ownRecords().filter((r) => (r.status as string) !== 'skip');
    for (const r of records) await store.put(r);
    for (const r of sharedRecords(records)) await store.putShared(r as unknown as SharedRecord);
    for (const f of noiseFloors()) await store.putNoise(f);
    await store.close();
  });
  afterAll(async () => {
    await rm(state, { recursive: true, force: true });
  });

  it("serves a stopped node's store on loopback and stops on SIGINT", async () => {
    const { proc, url } = await start(state, '127.0.0.1:0');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const snap = (await (await fetch(new URL('/api/snapshot', url))).json()) as { records: unknown[]; live: unknown; leaderboard: unknown[] };
    expect(snap.records).toHaveLength(12);
    expect(snap.live).toBeNull();
    expect(snap.leaderboard).toHaveLength(1);
    expect((await fetch(url)).status).toBe(200);
    // Pages and the poll read the store at the same moment: none of them may find it locked.
    const events = await fetch(new URL('/api/events', url));
    const reads = await Promise.all(Array.from({ length: 8 }, () => fetch(new URL('/api/snapshot', url))));
    expect(reads.map((r) => r.status)).toEqual(Array(8).fill(200));
    const again = (await (await fetch(new URL('/api/snapshot', url))).json()) as { feed: { message: string }[] };
    expect(again.feed.filter((f) => f.message.includes('cannot read'))).toEqual([]);
    await events.body?.cancel();
    proc.kill('SIGINT');
    expect((await proc).exitCode).toBe(0);
  });

  it('prints a URL with a generated token off loopback, and refuses without it', async () => {
    const { proc, url } = await start(state, '0.0.0.0:0');
    const token = new URL(url).searchParams.get('token');
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const api = new URL('/api/snapshot', url);
    expect((await fetch(api)).status).toBe(401);
    expect((await fetch(api, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    proc.kill('SIGINT');
    await proc;
  });

  it('takes its token from SWARM_DASHBOARD_TOKEN, and refuses an address that is not HOST:PORT', async () => {
    const { proc, url } = await start(state, '127.0.0.1:0', { SWARM_DASHBOARD_TOKEN: 'token-from-env' });
    expect(new URL(url).searchParams.get('token')).toBe('token-from-env');
    expect((await fetch(new URL('/api/snapshot', url))).status).toBe(401);
    proc.kill('SIGINT');
    await proc;
    const bad = await execa('node', [CLI, 'dashboard', '--state', state, '--listen', 'nowhere'], { reject: false, all: true });
    expect(bad.exitCode).toBe(1);
    expect(bad.all).toContain('HOST:PORT');
  });

  it('says how to start a node when the folder holds none', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'swarm-dash-empty-'));
    try {
      const r = await execa('node', [CLI, 'dashboard', '--state', empty], { reject: false, all: true });
      expect(r.exitCode).toBe(1);
      expect(r.all).toContain(`no swarm node has run in ${empty} yet`);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
