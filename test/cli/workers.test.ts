import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { cli, waitFor } from '../helpers/cli.js';
import { TRAINER } from '../helpers/paths.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

// The real trainer on the CPU, a tiny token budget; the mutator's seed pinned so the run is the same every time.
const swarm = cli({ SWARM_TRAINER: TRAINER, SWARM_NOISE_RUNS: '0', SWARM_SEED: '1' });

describe('swarm join --workers on a CPU', () => {
  it('runs two experiments at once with the real trainer, each worker on its share of the cores', async () => {
    const state = await mkdtemp(join(tmpdir(), 'swarm-workers-'));
    dirs.push(state);
    const r = await swarm(['join', '--state', state, '--workers', '2', '--max-experiments', '3', '--budget-tokens', '4096']);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toMatch(/2 workers: CPU, \d+ threads?; CPU, \d+ threads?/);
    expect(r.all).toMatch(/stopped after 3 experiment\(s\)/);

    const store = await openStore(join(state, 'db'));
    try {
      const [baseline, a, b] = await store.list();
      expect(baseline!.status).toBe('keep');
      for (const rec of [a!, b!]) expect(['keep', 'discard', 'crash']).toContain(rec.status);
      expect(a!.hash).not.toBe(b!.hash);
      // The two experiments after the baseline trained at the same time.
      expect(Date.parse(b!.startedAt)).toBeLessThan(Date.parse(a!.endedAt!));
    } finally {
      await store.close();
    }
  }, 900_000);

  it('swarm status of a node with two workers shows both runs at once (stub trainer)', async () => {
    const state = await mkdtemp(join(tmpdir(), 'swarm-workers-'));
    dirs.push(state);
    const stub = cli({ SWARM_NOISE_RUNS: '0', SWARM_SEED: '1', SWARM_STUB_SLEEP: '8' });
    const node = stub(['join', '--state', state, '--workers', '2', '--max-experiments', '3', '--budget', '1']);
    try {
      await waitFor(node, /#3 .*\(worker \d\)/);
      const status = JSON.parse((await stub(['status', '--json', '--state', state])).stdout);
      expect(status.live.workers.map((w: { worker: number; device: string }) => [w.worker, w.device])).toEqual([[0, 'cpu'], [1, 'cpu']]);
      expect(status.live.workers.map((w: { current: { seq: number } | null }) => w.current?.seq).sort()).toEqual([2, 3]);
    } finally {
      node.kill('SIGINT');
      await node;
    }
  }, 300_000);

  it('refuses --workers 0 and --gpus on a box without CUDA before touching state', async () => {
    const state = await mkdtemp(join(tmpdir(), 'swarm-workers-'));
    dirs.push(state);
    const zero = await swarm(['join', '--state', state, '--workers', '0', '--max-experiments', '1']);
    expect(zero.exitCode).not.toBe(0);
    expect(zero.all).toMatch(/--workers must be a positive integer, got "0"/);
    const gpus = await swarm(['join', '--state', state, '--gpus', '0', '--max-experiments', '1']);
    expect(gpus.exitCode).not.toBe(0);
    expect(gpus.all).toMatch(/--gpus 0 was given, but this box trains on cpu/);
    expect(await readdir(state)).toEqual([]);
  }, 300_000);
});
