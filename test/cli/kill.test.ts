import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { cli, waitFor } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const swarm = cli({ SWARM_STUB_SLEEP: '0.4' });

async function records(state: string): Promise<ExperimentRecord[]> {
  const r = await swarm(['log', '--json', '--state', state]);
  expect(r.exitCode, r.all).toBe(0);
  return JSON.parse(r.stdout) as ExperimentRecord[];
}

/** A small deterministic PRNG, so a failing kill schedule can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('kill -9 at random moments', () => {
  it('loses no finished record and leaves store and workspace consistent, kill after kill', async () => {
    const state = await mkdtemp(join(tmpdir(), 'swarm-kill-'));
    dirs.push(state);
    const seed = Number(process.env.SWARM_KILL_SEED ?? 20261123);
    const random = prng(seed);
    let finished: ExperimentRecord[] = [];
    for (let round = 0; round < 8; round++) {
      const node = swarm(['join', '--state', state, '--budget', '1']);
      // Kill at a random moment once this round has started an experiment of its own (slow machines
      // too); a node that exited first is checked all the same.
      await waitFor(node, /#\d+ /).catch(() => undefined);
      await new Promise((r) => setTimeout(r, random() * 2000));
      node.kill('SIGKILL');
      await node;
      const now = await records(state);
      // Every record that was finished before this round is still there, unchanged.
      for (const r of finished) expect(now.find((n) => n.id === r.id), `seed ${seed}, round ${round}`).toEqual(r);
      expect(now.filter((r) => r.status === 'running').length).toBeLessThanOrEqual(1);
      finished = now.filter((r) => r.status !== 'running');
    }
    expect(finished.length).toBeGreaterThan(3);

    const last = await swarm(['join', '--state', state, '--budget', '1', '--max-experiments', '2']);
    expect(last.exitCode, last.all).toBe(0);
    const all = await records(state);
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    expect(all.some((r) => r.status === 'running')).toBe(false);
    const ran = all.filter((r) => r.status !== 'invalid' && r.status !== 'skip' && r.origin.kind !== 'baseline');
    expect(new Set(ran.map((r) => r.hash)).size).toBe(ran.length);
    const lastKeep = all.filter((r) => r.status === 'keep').at(-1)!;
    const best = await execa('git', ['--git-dir', join(state, 'workspace.git'), 'rev-parse', 'refs/heads/best']);
    expect(best.stdout).toBe(lastKeep.commit);
  });
});
