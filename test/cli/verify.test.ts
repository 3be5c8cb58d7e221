import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { cli, waitFor } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

// The stub harness adds seed luck of this amplitude to seeded runs, so σ is not zero.
const swarm = cli({ SWARM_STUB_NOISE: '0.1' });

interface Report { target: { label: string; claimed: number | null }; measured: number | null; tolerance: number; verdict: string | null }

describe('swarm status and swarm verify', () => {
  it('shows the noise floor, and re-runs an experiment to compare it with its claim (node stopped)', async () => {
    const state = await mkdtemp(join(tmpdir(), 'swarm-verify-'));
    dirs.push(state);
    const join_ = await swarm(['join', '--state', state, '--max-experiments', '3', '--budget', '1']);
    expect(join_.exitCode, join_.all).toBe(0);
    expect(join_.all).toMatch(/noise floor: σ 0\.\d{6} over 3 runs/);

    const status = await swarm(['status', '--state', state]);
    expect(status.stdout).toMatch(/noise floor: σ 0\.\d{6} over 3 seeded runs \(after #1\); keep only wins > 0\.\d{6} \(2·σ\)/);
    const json = JSON.parse((await swarm(['status', '--json', '--state', state])).stdout) as { noise: { sigma: number; k: number; margin: number } };
    expect(json.noise.sigma).toBeGreaterThan(0);
    expect(json.noise.margin).toBeCloseTo(2 * json.noise.sigma, 9);

    const ran = (JSON.parse((await swarm(['log', '--json', '--state', state])).stdout) as ExperimentRecord[]);
    // Every experiment after the floor was judged with its margin, and `swarm show` says so.
    expect(ran[1]!.margin).toBeCloseTo(json.noise.margin, 9);
    expect((await swarm(['show', '2', '--state', state])).stdout).toContain(`to beat by more than ${json.noise.margin.toFixed(6)}`);
    const v = await swarm(['verify', '1', '--json', '--state', state]);
    expect(v.exitCode, v.all).toBe(0);
    const report = JSON.parse(v.stdout) as Report;
    // The stub is deterministic without a seed: the re-run measures exactly the claim.
    expect(report).toMatchObject({ target: { label: '#1', claimed: ran[0]!.metrics!.val_bpb }, measured: ran[0]!.metrics!.val_bpb, verdict: 'confirm' });
    expect(report.tolerance).toBeGreaterThanOrEqual(2 * json.noise.sigma - 1e-12);
    expect((await swarm(['verify', '#1', '--state', state])).stdout).toMatch(/verdict: +confirmed/);

    const missing = await swarm(['verify', '99', '--state', state]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no experiment matches "99"/);
  });

  it('asks a running node to re-run it between its own runs', async () => {
    const state = await mkdtemp(join(tmpdir(), 'swarm-verify-'));
    dirs.push(state);
    const node = swarm(['join', '--state', state, '--budget', '1', '--noise-runs', '0'], { SWARM_STUB_SLEEP: '0.5' });
    try {
      await waitFor(node, /#2 /);
      const logged = waitFor(node, /swarm verify: re-running #1/);
      const v = await swarm(['verify', '1', '--json', '--state', state]);
      expect(v.exitCode, v.all).toBe(0);
      expect(JSON.parse(v.stdout)).toMatchObject({ target: { label: '#1' }, verdict: 'confirm' });
      await logged;
    } finally {
      node.kill('SIGINT');
      await node;
    }
  });
});
