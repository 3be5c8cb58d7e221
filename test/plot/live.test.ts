import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { cli, waitFor } from '../helpers/cli.js';
import { pngSize } from './fixture.js';

const swarm = cli({ SWARM_NOISE_RUNS: '0', HOME: tmpdir() });
let state = '';
afterAll(async () => {
  if (state) await rm(state, { recursive: true, force: true });
});

describe('swarm plot and export on a running node', () => {
  it('read the records through its control socket', async () => {
    state = await mkdtemp(join(tmpdir(), 'swarm-plot-live-'));
    // Every stub run sleeps 25 s: the reads land while #2 trains (Ctrl-C ends it at once).
    const node = swarm(['join', '--state', state, '--budget', '1'], { SWARM_STUB_SLEEP: '25' });
    try {
      await waitFor(node, /#2 /);
      const out = join(state, 'live.png');
      const [plot, plotSwarm, log, exported] = await Promise.all([
        swarm(['plot', '--state', state, '-o', out]),
        swarm(['plot', '--swarm', '--state', state, '-o', join(state, 'live-swarm.png')]),
        swarm(['log', '--json', '--state', state]),
        swarm(['export', '--json', '--state', state]),
      ]);
      const records = JSON.parse(log.stdout) as ExperimentRecord[];
      expect(records.map((r) => [r.seq, r.status])).toEqual([[1, 'keep'], [2, 'running']]);
      const best = records[0]!.metrics!.val_bpb.toFixed(6);
      expect(plot.stdout.trim(), plot.all).toBe(`plotted 1 experiment (1 kept, 0 crashes) from 1 peer; best ${best}; wrote ${out}`);
      // The node shared its baseline as a signed record: the swarm picture holds it too.
      expect(plotSwarm.stdout, plotSwarm.all).toMatch(new RegExp(`^plotted 1 experiment \\(1 kept, 0 crashes\\) from 1 peer; best ${best};`));
      expect(await pngSize(out)).toEqual({ width: 1800, height: 900 });
      expect(JSON.parse(exported.stdout)).toEqual(records.slice(0, 1)); // the run in flight is no result yet
    } finally {
      node.kill('SIGINT');
      await node;
    }
  });
});
