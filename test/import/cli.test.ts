import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { makeRun } from './fixture.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('swarm import (the command)', () => {
  it('imports into the state folder, exports the TSV back byte for byte, and says which line is bad', async () => {
    const run = await makeRun();
    const home = await mkdtemp(join(tmpdir(), 'swarm-import-cli-'));
    cleanups.push(() => run.cleanup(), () => rm(home, { recursive: true, force: true }));
    const swarm = cli({ HOME: home });
    const state = join(home, 'state');

    const out = await swarm(['import', run.dir, '--state', state]);
    expect(out.exitCode, out.all).toBe(0);
    expect(out.stdout).toBe([
      'imported 6 of 6 rows from refs/heads/autoresearch/dec1 (3 keep, 2 discard, 1 crash)',
      '4 with their train.py and diff, 2 with description, status and val_bpb only',
      'the next `swarm join` shares them with the swarm, so their ideas are not tried again',
    ].join('\n'));
    const tsv = await swarm(['export', '--tsv', '--state', state]);
    expect(tsv.stdout + '\n').toBe(run.tsv);

    const again = await swarm(['import', run.dir, '--state', state]);
    expect(again.stdout).toMatch(/^imported 0 of 6 rows .*; 6 were imported before$/m);

    // The next join (of another program: stub trainer, sotu) takes the folder, runs, and shares the rows.
    const joined = await swarm(['join', '--max-experiments', '1', '--noise-runs', '0', '--state', state]);
    expect(joined.exitCode, joined.all).toBe(0);
    expect(joined.all).toContain('shared 6 imported record(s) with the swarm');

    const bad = join(home, 'bad.tsv');
    await writeFile(bad, run.tsv.replace(`${run.c.gelu}\t1.005000`, `${run.c.gelu}\t1,005`));
    const refused = await swarm(['import', run.dir, '--tsv', bad, '--state', state]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^swarm: line 4: val_bpb "1,005" is not a decimal number: .*\n {2}hint: each row is: commit<TAB>val_bpb/);
  }, 120_000);
});
