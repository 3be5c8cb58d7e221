import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { exportTsv } from '../../src/store/index.js';
import { node } from '../helpers/node.js';
import { scripted, setConst } from '../helpers/swarm.js';
import { STUB_TRAINER, TRAINER } from '../helpers/paths.js';

describe('the loop with the real trainer', () => {
  it('runs a baseline and mutations: records in LevelDB, best advanced only on keep, results.tsv agrees', async () => {
    const n = await node({ trainerDir: TRAINER, budget: 2 });
    const report = await n.run(3);
    expect(report.created).toBe(3);

    const records = await n.store.list();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    const [baseline, ...rest] = records;
    expect(baseline!.origin.kind).toBe('baseline');
    expect(baseline!.status).toBe('keep');
    expect(Number.isFinite(baseline!.metrics!.val_bpb)).toBe(true);
    expect(baseline!.hardware?.device).toBe('cpu');
    for (const r of rest) {
      expect(['keep', 'discard', 'crash']).toContain(r.status);
      expect(r.diff).toMatch(/^[-+][A-Z_]+ = /m);
      expect(r.bestBefore).not.toBeNull();
    }

    // The best branch points at the last kept experiment; discarded ones stay retrievable.
    const kept = records.filter((r) => r.status === 'keep').at(-1)!;
    expect((await n.workspace.best()).commit).toBe(kept.commit);
    for (const r of rest) expect(await n.workspace.diff(r.commit!)).toBe(r.diff);

    const tsv = exportTsv(records).trimEnd().split('\n').slice(1).map((l) => l.split('\t'));
    expect(tsv.map((row) => row[0])).toEqual(records.map((r) => r.commit!.slice(0, 7)));
    expect(tsv.map((row) => row[3])).toEqual(records.map((r) => r.status));
    expect(tsv.map((row) => Number(row[1]))).toEqual(records.map((r) => Number((r.metrics?.val_bpb ?? 0).toFixed(6))));

    // Live progress reached the caller while training.
    expect(n.events.some((e) => e.type === 'progress' && e.step >= 1)).toBe(true);
  });
});

describe('the loop with a stub trainer', () => {
  it('never runs the same train.py twice and keeps improving from its best', async () => {
    const n = await node({ trainerDir: STUB_TRAINER, budget: 1 });
    await n.run(12);
    const records = await n.store.list();
    const hashes = records.filter((r) => r.status !== 'invalid' && r.status !== 'skip').map((r) => r.hash);
    expect(new Set(hashes).size).toBe(hashes.length);
    const bests = records.filter((r) => r.status === 'keep').map((r) => r.metrics!.val_bpb);
    expect(bests.length).toBeGreaterThan(1);
    for (let i = 1; i < bests.length; i++) expect(bests[i]!).toBeLessThan(bests[i - 1]!);
    // Each candidate was judged against the best of its time.
    for (const r of records.filter((rec) => rec.status === 'discard')) {
      expect(r.metrics!.val_bpb).toBeGreaterThanOrEqual(r.bestBefore!);
    }
  });

  it('skips a duplicate of its own earlier run with its own label, not counted as an experiment', async () => {
    const same = { hypothesis: 'DEPTH 3', edit: setConst('DEPTH', '3') };
    const n = await node({ trainerDir: STUB_TRAINER, budget: 1, proposer: scripted([same, same, { hypothesis: 'DEPTH 5', edit: setConst('DEPTH', '5') }]) });
    const report = await n.run(3);
    const records = await n.store.list();
    expect(records.map((r) => r.status === 'skip' ? 'skip' : r.hypothesis)).toEqual(['baseline', 'DEPTH 3', 'skip', 'DEPTH 5']);
    expect(records[2]).toMatchObject({ status: 'skip', outcome: null, metrics: null, reason: 'identical to #2, already tried here' });
    // three experiments ran (baseline, DEPTH 3, DEPTH 5); the skip did not use up --max-experiments
    expect(report.created).toBe(3);
  });

  it('resumes after a restart from its best, continuing the sequence', async () => {
    const n = await node({ trainerDir: STUB_TRAINER, budget: 1 });
    await n.run(4);
    const before = await n.store.list();
    const best = (await n.workspace.best()).commit;
    const again = await n.run(2);
    const after = await n.store.list();
    expect(after.slice(0, 4)).toEqual(before);
    expect(after.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(after.filter((r) => r.origin.kind === 'baseline')).toHaveLength(1);
    expect(after[4]!.parentCommit).toBe(best);
    expect(again.created).toBe(2);
  });
});

describe('git history', () => {
  it('keeps every experiment as a commit whose parent is the best of its time', async () => {
    const n = await node({ trainerDir: STUB_TRAINER, budget: 1 });
    await n.run(5);
    const records = await n.store.list();
    const refs = await n.workspace.experiments();
    for (const r of records.slice(1)) {
      // A candidate drafted against an older best is rebased; its original commit stays under its id.
      expect(refs.has(r.id)).toBe(true);
      expect(await n.workspace.diff(r.commit!)).toBe(r.diff);
      const { stdout } = await execa('git', ['--git-dir', join(n.state, 'workspace.git'), 'rev-parse', `${r.commit}^`]);
      expect(stdout).toBe(r.parentCommit);
    }
  });
});
