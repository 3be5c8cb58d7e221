import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportJson } from '../../src/cli/export.js';
import { exportTsv, TSV_HEADER } from '../../src/store/index.js';
import { cli } from '../helpers/cli.js';
import { makeState, record } from '../plot/fixture.js';

const swarm = cli({ HOME: tmpdir() });
const records = [
  record(1, 'keep', 1.52, 'baseline'), record(2, 'discard', 1.53, 'tab\there'), record(3, 'invalid', null),
  record(4, 'crash', null), record(5, 'keep', 1.49, 'depth 5'), record(6, 'running', null),
];
const made: string[] = [];
afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

describe('swarm export', () => {
  it('--json gives back every run as the store holds it; -o writes either format to a file', async () => {
    const { state } = await makeState(records);
    made.push(state);
    const out = await swarm(['export', '--json', '--state', state]);
    expect(out.exitCode, out.all).toBe(0);
    // The runs that happened, exactly as stored: the invalid proposal (#3) and the run in flight (#6) are not results.
    const ran = records.filter((r) => r.seq !== 3 && r.seq !== 6);
    expect(JSON.parse(out.stdout)).toEqual(ran);

    const json = join(state, 'results.json');
    const tsv = join(state, 'results.tsv');
    expect((await swarm(['export', '--json', '-o', json, '--state', state])).exitCode).toBe(0);
    expect(JSON.parse(await readFile(json, 'utf8'))).toEqual(ran);
    expect((await swarm(['export', '--tsv', '-o', tsv, '--state', state])).exitCode).toBe(0);
    const rows = (await readFile(tsv, 'utf8')).trimEnd().split('\n');
    expect(rows[0]).toBe(TSV_HEADER);
    expect(rows.slice(1).map((r) => r.split('\t').slice(1, 4).join(' '))).toEqual(['1.520000 2.0 keep', '1.530000 2.0 discard', '0.000000 0.0 crash', '1.490000 2.0 keep']);
  });

  it('needs exactly one format, and names a file it cannot write', async () => {
    const { state } = await makeState(records);
    made.push(state);
    const none = await swarm(['export', '--state', state]);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toBe("swarm: export needs a format\n  hint: pass --tsv (the reference's results.tsv) or --json");
    const both = await swarm(['export', '--tsv', '--json', '--state', state]);
    expect(both.exitCode).toBe(1);
    expect(both.stderr).toContain('swarm: export writes one format at a time');
    const bad = await swarm(['export', '--json', '-o', join(state, 'missing', 'x.json'), '--state', state]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/^swarm: cannot write .*missing\/x\.json: ENOENT/);
  });

  it('leaves skipped duplicates out of both formats: they are not experiments', () => {
    const skip = { ...record(7, 'discard', 1.4), status: 'skip' as const, reason: 'already tried by peer 3MivAaRT' };
    expect((JSON.parse(exportJson([...records, skip])) as { seq: number }[]).map((r) => r.seq)).toEqual([1, 2, 4, 5]);
    expect(exportTsv([...records, skip]).trimEnd().split('\n')).toHaveLength(5);
  });
});
