import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { cli, waitFor } from '../helpers/cli.js';
import { TRAINER } from '../helpers/paths.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function stateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'swarm-first-'));
  dirs.push(d);
  return join(d, 'state');
}

const swarm = cli({ SWARM_STUB_SLEEP: '0' });

async function records(state: string): Promise<ExperimentRecord[]> {
  const { stdout } = await swarm(['log', '--json', '--state', state]);
  return JSON.parse(stdout) as ExperimentRecord[];
}

describe('the first hour', () => {
  it('a state folder belongs to one research program: another budget is refused, naming both, and nothing mixes', async () => {
    const state = await stateDir();
    const first = await swarm(['join', '--state', state, '--max-experiments', '2', '--budget', '1', '--noise-runs', '0']);
    expect(first.exitCode, first.all).toBe(0);
    const before = await records(state);

    const other = await swarm(['join', '--state', state, '--max-experiments', '1', '--budget', '2', '--noise-runs', '0']);
    expect(other.exitCode).toBe(1);
    const line = other.all!.split('\n').find((l) => l.startsWith('swarm: '))!;
    expect(line).toMatch(/holds research program [0-9a-f]{16} \(sotu, 1 s\); this join is program [0-9a-f]{16} \(sotu, 2 s\)/);
    expect(other.all).toMatch(new RegExp(`--state ${state}-[0-9a-f]{8}`));
    expect(await records(state)).toEqual(before);

    // The same program carries on.
    const again = await swarm(['join', '--state', state, '--max-experiments', '1', '--budget', '1', '--noise-runs', '0']);
    expect(again.exitCode, again.all).toBe(0);
    expect((await records(state)).length).toBeGreaterThan(before.length);
  });

  it('a harness that cannot run at all (climbmix without network) stops with one accurate line, records no crash and does not loop', async () => {
    const state = await stateDir();
    // A closed loopback port: the download fails at once instead of after DNS retries.
    const env = { SWARM_TRAINER: TRAINER, SWARM_CLIMBMIX_URL: 'http://127.0.0.1:9/climbmix', SWARM_DOWNLOAD_RETRIES: '1', SWARM_CACHE: join(state, '..', 'cache') };
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await swarm(['join', '--state', state, '--dataset', 'climbmix', '--budget-tokens', '1000'], env);
      expect(r.exitCode, r.all).toBe(1);
      const errors = r.all!.split('\n').filter((l) => l.startsWith('swarm: '));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/cannot build the climbmix data cache: .*no network access/);
      expect(r.all).toMatch(/--dataset sotu to train offline/);
      expect(r.all).not.toMatch(/CRASH|fix the setup/);
      // Nothing was judged: the baseline waits, not run and not counted as an attempt.
      expect(await records(state)).toMatchObject([{ seq: 1, status: 'running', attempts: 0 }]);
    }
  }, 120_000);

  it('status says what runs now and what comes next, noise runs included; noise runs show their progress', async () => {
    const state = await stateDir();
    const node = swarm(['join', '--state', state, '--max-experiments', '2', '--budget-mode', 'tokens', '--budget-tokens', '1000', '--noise-runs', '2'], { SWARM_STUB_SLEEP: '8' });
    // Once the first noise run has finished, the second is in flight for ~8 s.
    await waitFor(node, /noise run 1 of 2 \(seed \d+\): val_bpb/);
    const status = await swarm(['status', '--state', state]);
    expect(status.stdout).toMatch(/now: +noise run [12] of 2 \(seed \d+\)/);
    expect(status.stdout).toMatch(/next: +(noise run 2 of 2, then )?the first experiment \(in ~\d+ (s|min)\)/);
    const json = JSON.parse((await swarm(['status', '--json', '--state', state])).stdout) as { live: { current: { kind: string; seq: number | null; budget: string } } };
    expect(json.live.current).toMatchObject({ kind: 'noise', seq: null, budget: '1k tokens' });
    const r = await node;
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toMatch(/noise run 1 of 2 \(seed \d+\): val_bpb \d\.\d+/);
    expect(r.all).toMatch(/noise floor: σ [\d.]+ over 3 runs/);
  }, 120_000);

  it('join serves its dashboard on loopback: the printed URL answers with the live node, and events stream as runs progress', async () => {
    const state = await stateDir();
    const node = swarm(['join', '--state', state, '--max-experiments', '3', '--budget', '1', '--noise-runs', '0', '--dashboard', '127.0.0.1:0'], { SWARM_STUB_SLEEP: '2' });
    let out = '';
    node.all?.on('data', (c: Buffer) => { out += c.toString(); });
    await waitFor(node, /dashboard: http:\/\/127\.0\.0\.1:\d+\/\s/);
    const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)\s/.exec(out)![1]!;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    // The event stream carries the loop's events as they happen (a run starting, its progress, its end).
    const events = await fetch(new URL('api/events', url));
    const reader = events.body!.getReader();
    let stream = '';
    while (!/"type":"(start|finish|progress)"/.test(stream)) {
      const { value, done } = await reader.read();
      if (done) break;
      stream += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(stream).toMatch(/"type":"(start|finish|progress)"/);
    const snap = await (await fetch(new URL('api/snapshot', url))).json() as { live: { pid: number } | null };
    expect(snap.live?.pid).toBeGreaterThan(0);
    expect((await node).exitCode).toBe(0);
  }, 120_000);
});
