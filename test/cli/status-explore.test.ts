/** `swarm status` shows the plateau and the directions, in text and in --json. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExplorationView } from '../../src/directions/index.js';
import { cli } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const swarm = cli({ SWARM_NOISE_RUNS: '0', SWARM_SEED: '1' });

describe('swarm status: plateau and directions', () => {
  it('reports the plateau against --plateau and the directions the experiments touched', async () => {
    const state = await mkdtemp(join(tmpdir(), 'swarm-status-'));
    dirs.push(state);
    const run = await swarm(['join', '--state', state, '--max-experiments', '5', '--budget', '1', '--plateau', '2']);
    expect(run.exitCode, run.all).toBe(0);
    const json = JSON.parse((await swarm(['status', '--json', '--state', state, '--plateau', '2'])).stdout) as { exploration: ExplorationView };
    const ex = json.exploration;
    expect(ex.plateauAfter).toBe(2);
    expect(ex.plateau).toBe(ex.sinceKeep >= 2);
    const tried = ex.directions.filter((d) => d.tries > 0);
    expect(tried.length).toBeGreaterThan(0);
    expect(tried.reduce((n, d) => n + d.tries, 0)).toBeGreaterThanOrEqual(4);
    for (const d of tried) expect(['MATRIX_LR', 'EMBEDDING_LR', 'WARMDOWN_RATIO', 'DEPTH']).toContain(d.key);
    const text = (await swarm(['status', '--state', state, '--plateau', '2'])).stdout;
    expect(text).toMatch(ex.plateau ? /^plateau: +YES: \d+ experiments since the last keep \(plateau after 2\)/m : /^plateau: +no \(\d of 2 experiments/m);
    expect(text).toMatch(/^directions: +\d+ tried in the swarm/m);
    expect(text).toMatch(new RegExp(`^ +${tried[0]!.key} +\\S`, 'm'));
  }, 120_000);
});
