import { copyFile, mkdir, rm, stat, writeFile, chmod, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { PYTHON, REPO } from '../helpers/paths.js';
import { makeState, peer, pngSize, record, resultOf, expId } from './fixture.js';

const swarm = cli({ HOME: tmpdir() });
const ARTIFACTS = join(REPO, 'test-artifacts', 'plot');
const made: string[] = [];
afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

async function state(...args: Parameters<typeof makeState>) {
  const s = await makeState(...args);
  made.push(s.state);
  return s;
}

/** Runs `swarm plot`, keeps the picture as a test artifact, returns the CLI's result. */
async function plot(dir: string, name: string, ...flags: string[]) {
  const out = join(dir, `${name}.png`);
  const r = await swarm(['plot', '--state', dir, '-o', out, ...flags]);
  if (r.exitCode === 0) {
    await mkdir(ARTIFACTS, { recursive: true });
    await copyFile(out, join(ARTIFACTS, `${name}.png`));
  }
  return { ...r, out };
}

// Hostile hypotheses: matplotlib parses $…$ as math (a malformed one raises), and peers' text is untrusted.
const HOSTILE = ['scale $\\frac{ lr by $2^{', '<img src=x onerror=alert(1)>\n\u001b[31mred', 'x'.repeat(400)];

const baselineRun = () => [
  record(1, 'keep', 1.52, 'baseline'),
  record(2, 'discard', 1.535, 'raise LR to 0.04'),
  record(3, 'keep', 1.49, 'depth 4 -> 5'),
  record(4, 'crash', null, 'batch 4x (out of memory)'),
  record(5, 'invalid', null, 'an edit that did not apply'),
  record(6, 'discard', 2.9, 'warmup off (diverged)'),
  record(7, 'keep', 1.472, HOSTILE[0]),
  record(8, 'discard', 1.481, HOSTILE[1]),
  record(9, 'discard', 1.50, HOSTILE[2]),
  record(10, 'running', null, 'in flight'),
  { ...record(11, 'skip', null, 'depth 4 -> 5'), reason: 'already run by peer 3MivAaRT' },
];

describe('swarm plot', () => {
  it("draws one node's experiments: finished runs only, the summary counts what the records hold", async () => {
    const { state: dir } = await state(baselineRun());
    const r = await plot(dir, 'node', '--by', 'experiment');
    expect(r.exitCode, r.all).toBe(0);
    // 11 records: the invalid proposal, the skipped duplicate and the run in flight are not points; 3 kept, 1 crash.
    expect(r.stdout.trim()).toBe(`plotted 8 experiments (3 kept, 1 crash) from 1 peer; best 1.472000; wrote ${r.out}`);
    expect(await pngSize(r.out)).toEqual({ width: 1800, height: 900 });
    expect((await stat(r.out)).size).toBeGreaterThan(30_000);
  });

  it('draws by time too', async () => {
    const { state: dir } = await state(baselineRun());
    const r = await plot(dir, 'node-by-time', '--by', 'time');
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^plotted 8 experiments \(3 kept, 1 crash\) from 1 peer; best 1\.472000;/);
    expect(await pngSize(r.out)).toEqual({ width: 1800, height: 900 });
  });

  it("--swarm draws every peer's signed results, this node's included, and the swarm's best", async () => {
    const other = await peer([
      resultOf({ ...record(1, 'keep', 1.51, 'their baseline'), id: expId(1, 7) }),
      resultOf({ ...record(2, 'crash', null, 'their crash'), id: expId(2, 7) }),
      resultOf({ ...record(3, 'keep', 1.461, 'their win: rope base 200k'), id: expId(3, 7) }),
      resultOf({ ...record(4, 'discard', 1.53, HOSTILE[0]), id: expId(4, 7) }),
    ]);
    const { state: dir } = await state(baselineRun(), { self: true, peers: [other] });
    const r = await plot(dir, 'swarm', '--swarm');
    expect(r.exitCode, r.all).toBe(0);
    // This node shared its 8 finished runs (3 kept, 1 crash); the other peer 4 (2 kept, 1 crash).
    expect(r.stdout.trim()).toBe(`plotted 12 experiments (5 kept, 2 crashes) from 2 peers; best 1.461000; wrote ${r.out}`);
    expect(await pngSize(r.out)).toEqual({ width: 1800, height: 900 });
    const byTime = await plot(dir, 'swarm-by-time', '--swarm', '--by', 'time');
    expect(byTime.stdout).toMatch(/^plotted 12 experiments \(5 kept, 2 crashes\) from 2 peers; best 1\.461000;/);
    // Without --swarm the same folder plots this node alone.
    const own = await plot(dir, 'swarm-own');
    expect(own.stdout).toMatch(/^plotted 8 experiments \(3 kept, 1 crash\) from 1 peer; best 1\.472000;/);
  });

  it('says in one line that there is nothing to plot, and writes no file', async () => {
    const { state: empty } = await state([record(1, 'invalid', null)]);
    const e = await plot(empty, 'empty');
    expect(e.exitCode).toBe(1);
    expect(e.stderr.trim()).toBe(`swarm: nothing to plot: no experiment has finished in ${empty} yet`);
    expect(existsSync(e.out)).toBe(false);

    const { state: crashed } = await state([record(1, 'crash', null), record(2, 'crash', null)]);
    const c = await plot(crashed, 'crashed');
    expect(c.exitCode).toBe(1);
    expect(c.stderr.trim()).toBe(`swarm: nothing to plot: all 2 finished experiments in ${crashed} crashed (no val_bpb); see \`npx swarm log\``);
    expect(existsSync(c.out)).toBe(false);

    const s = await plot(empty, 'empty-swarm', '--swarm');
    expect(s.exitCode).toBe(1);
    expect(s.stderr.trim()).toBe(`swarm: nothing to plot: no experiment has finished in the swarm seen from ${empty} yet`);
  });

  it('tells how to fix a Python without matplotlib and an output that cannot be written', async () => {
    const { state: dir } = await state(baselineRun());
    // The project's Python with its site-packages cut off: the standard library only, no matplotlib.
    const bin = await mkdtemp(join(tmpdir(), 'swarm-nompl-'));
    made.push(bin);
    const bare = join(bin, 'python');
    await writeFile(bare, `#!/bin/sh\nexec ${PYTHON} -S "$@"\n`);
    await chmod(bare, 0o755);
    const r = await swarm(['plot', '--state', dir, '-o', join(bin, 'p.png')], { SWARM_PYTHON: bare });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`swarm: matplotlib is not installed for ${bare}`);
    expect(r.stderr).toContain('hint: run `bash scripts/setup.sh`');

    const w = await swarm(['plot', '--state', dir, '-o', join(bin, 'no-such-folder', 'p.png')]);
    expect(w.exitCode).toBe(1);
    expect(w.stderr).toMatch(/^swarm: cannot write .*no-such-folder\/p\.png: No such file or directory\n  hint: choose a writable file with -o FILE/);
  });
});
