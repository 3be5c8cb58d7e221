import { mkdtemp, rm, symlink, writeFile, readFile, chmod, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/format.js';
import { ImportError } from '../../src/core/index.js';
import { importRun } from '../../src/import/index.js';
import { latestKeep, toHistory, triedHashes } from '../../src/loop/index.js';
import { nodeSpec } from '../../src/plot/index.js';
import { exportTsv, openStore, type Store } from '../../src/store/index.js';
import { openWorkspace, type Workspace } from '../../src/workspace/index.js';
import { GELU, hash, makeRun, V0, V1, V2, WD, type Run } from './fixture.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function node(): Promise<{ state: string; store: Store; workspace: Workspace }> {
  const state = await mkdtemp(join(tmpdir(), 'swarm-import-state-'));
  const store = await openStore(join(state, 'db'));
  const workspace = await openWorkspace({ dir: join(state, 'ws.git'), baseline: 'print("our own baseline")\n' });
  cleanups.push(() => rm(state, { recursive: true, force: true }), () => store.close());
  return { state, store, workspace };
}

async function run(): Promise<Run> {
  const r = await makeRun();
  cleanups.push(() => r.cleanup());
  return r;
}

/** The ImportError an import fails with (and that it wrote nothing). */
async function refusal(r: Run, tsv: string, branch?: string): Promise<ImportError> {
  const n = await node();
  const file = join(r.dir, 'edited.tsv');
  await writeFile(file, tsv);
  const err = await importRun({ repo: r.dir, tsv: file, store: n.store, workspace: n.workspace, ...(branch ? { branch } : {}) }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ImportError);
  expect(await n.store.list()).toEqual([]);
  return err as ImportError;
}

const rowsOf = (tsv: string) => tsv.trimEnd().split('\n');

describe('swarm import', () => {
  it('turns every row into a record: kept commits and surviving discards with train.py and diff, gone ones description-only', async () => {
    const r = await run();
    const n = await node();
    const report = await importRun({ repo: r.dir, store: n.store, workspace: n.workspace });
    expect(report).toMatchObject({ ref: 'refs/heads/autoresearch/dec1', rows: 6, already: 0 });
    const records = await n.store.list();
    expect(records.map((x) => [x.seq, x.status, x.imported, x.origin.kind])).toEqual([
      [1, 'keep', { commit: 'baseline', line: 2 }, 'import'],
      [2, 'keep', { commit: r.c.k1, line: 3 }, 'import'],
      [3, 'discard', { commit: r.c.gelu, line: 4 }, 'import'],
      [4, 'crash', { commit: r.c.wide, line: 5 }, 'import'],
      [5, 'keep', { commit: r.c.k2, line: 6 }, 'import'],
      [6, 'discard', { commit: r.c.wd, line: 7 }, 'import'],
    ]);
    const [base, k1, gelu, wide, k2, wd] = records as [typeof records[0], typeof records[0], typeof records[0], typeof records[0], typeof records[0], typeof records[0]];
    // The baseline: the train.py the branch started from, no change of its own.
    expect([base.hash, base.parentHash, base.diff, base.reason]).toEqual([hash(V0), hash(V0), '', null]);
    expect(await n.workspace.source(base.commit!)).toBe(V0);
    // A kept commit: its train.py and the diff against the kept train.py before it.
    expect([k1.hash, k1.parentHash, k1.reason, k1.metrics?.val_bpb]).toEqual([hash(V1), hash(V0), null, 0.9932]);
    expect(await n.workspace.source(k1.commit!)).toBe(V1);
    expect(k1.diff).toContain('-LR = 0.02\n+LR = 0.04');
    expect(k2.parentHash).toBe(hash(V1));
    expect(k2.diff).toContain('+ROPE = 200000');
    // Reset away and garbage-collected: description, status and val_bpb only, and the record says so.
    expect([gelu.hash, gelu.commit, gelu.parentHash, gelu.metrics?.val_bpb]).toEqual([null, null, hash(V1), 1.005]);
    expect(gelu.reason).toBe(`imported from results.tsv line 4: commit ${r.c.gelu} is not in the repository (the reference resets discarded commits away); description, status and val_bpb only`);
    expect([wide.hash, wide.metrics, wide.outcome]).toEqual([null, null, 'crash']);
    // A discard reset but not yet collected still has its train.py: the swarm will know that exact file.
    expect([wd.hash, wd.parentHash]).toEqual([hash(WD), hash(V2)]);
    expect(wd.diff).toContain('+WD = 0.01');
    expect(wd.reason).toBe('imported from results.tsv line 7 (discard in that run)');

    // History, not this node's measurements: never its best, but tried, and told to the proposers.
    expect(latestKeep(records)).toBeUndefined();
    expect([...triedHashes(records).keys()]).toEqual([hash(V0), hash(V1), hash(V2), hash(WD)]);
    // labelled, so the proposer does not read another harness's val_bpb as this node's
    expect(toHistory(records).map((h) => h.hypothesis)).toContain('[imported] switch to GeLU activation');
    expect((await n.workspace.best()).source).toBe('print("our own baseline")\n');
    // Nor points of this node's progress picture: another program's numbers share no axes with ours.
    expect(nodeSpec(records, { by: 'experiment', program: null }).points).toEqual([]);
    const status = formatStatus(n.state, records, null);
    expect(status).toContain('experiments: 0 (0 kept, 0 discarded, 0 crashed)\nimported:    6 rows of another run (swarm import)');
    expect(status).not.toContain('best:');
  });

  it('exports the five columns back byte for byte, `baseline` and the short hashes included; importing again adds nothing', async () => {
    const r = await run();
    const n = await node();
    await importRun({ repo: r.dir, store: n.store, workspace: n.workspace });
    expect(exportTsv(await n.store.list())).toBe(r.tsv);

    const again = await importRun({ repo: r.dir, store: n.store, workspace: n.workspace });
    expect([again.added.length, again.already]).toEqual([0, 6]);
    expect(await n.store.list()).toHaveLength(6);

    // The run went on: only the new row comes in.
    const more = `${r.tsv}${r.c.gelu}\t0.000000\t0.0\tcrash\tretry GeLU\n`;
    await writeFile(join(r.dir, 'results.tsv'), more);
    const third = await importRun({ repo: r.dir, store: n.store, workspace: n.workspace });
    expect(third.added.map((x) => x.imported)).toEqual([{ commit: r.c.gelu, line: 8 }]);
    expect(exportTsv(await n.store.list())).toBe(more);
  });

  it('names the line of a malformed row', async () => {
    const r = await run();
    const rows = rowsOf(r.tsv);
    const cases: [string[], number, RegExp][] = [
      [[rows[0]!, rows[1]!, `${r.c.k1}\t0.993200\t44.2\tkeep`], 3, /expected 5 tab-separated cells, found 4/],
      [[rows[0]!, rows[1]!, rows[2]!, 'zz12345\t1.0\t1.0\tdiscard\tx'], 4, /commit "zz12345" is not a short hash/],
      [[rows[0]!, rows[1]!, `${r.c.k1}\tnan\t44.2\tkeep\tx`], 3, /val_bpb "nan" is not a decimal number/],
      [[rows[0]!, rows[1]!, `${r.c.k1}\t0.99\t44.2\tkept\tx`], 3, /status "kept" is not keep, discard or crash/],
      [[rows[0]!, rows[2]!, 'baseline\t0.997900\t44.0\tkeep\tbaseline'], 3, /`baseline` may only be the first row's commit/],
      [['commit,val_bpb', rows[1]!], 1, /the header is not the reference's/],
    ];
    for (const [lines, line, message] of cases) {
      const err = await refusal(r, lines.join('\n') + '\n');
      expect(err.line, err.message).toBe(line);
      expect(err.message).toMatch(new RegExp(`^line ${line}: `));
      expect(err.message).toMatch(message);
    }
  });

  it('refuses a hash that names a tree or a blob, and kept commits that contradict the branch', async () => {
    const r = await run();
    const rows = rowsOf(r.tsv);
    const tree = await r.git('rev-parse', '--short=7', `${r.c.k1}^{tree}`);
    const blob = await r.git('rev-parse', '--short=7', `${r.c.k1}:train.py`);
    let err = await refusal(r, [...rows.slice(0, 3), `${tree}\t1.0\t44.0\tdiscard\tx`].join('\n'));
    expect(err.message).toMatch(new RegExp(`^line 4: ${tree} names a tree \\([0-9a-f]{12}\\), not a commit`));
    err = await refusal(r, [...rows.slice(0, 3), `${blob}\t1.0\t44.0\tkeep\tx`].join('\n'));
    expect(err.message).toMatch(new RegExp(`^line 4: ${blob} names a blob`));

    // Kept rows out of the branch's order.
    err = await refusal(r, [rows[0], rows[1], rows[5], rows[2]].join('\n'));
    expect(err.message).toBe(`line 4: kept commit ${r.c.k1} is not after line 3's ${r.c.k2} on refs/heads/autoresearch/dec1`);
    // A kept commit that the branch never had (the reset-away discard called a keep).
    err = await refusal(r, [rows[0], rows[1], rows[2], rows[6]!.replace('discard', 'keep')].join('\n'));
    expect(err.message).toBe(`line 4: kept commit ${r.c.wd} is not on the first-parent history of refs/heads/autoresearch/dec1`);
    // The right TSV read against the wrong branch.
    err = await refusal(r, r.tsv, 'master');
    expect(err.message).toBe(`line 3: kept commit ${r.c.k1} is not on the first-parent history of refs/heads/master`);
    expect((await refusal(r, r.tsv, 'nope')).message).toBe('the repository has no branch nope');
  });

  it('never runs the repository: hooks, a planted config and attributes stay inert; links are not followed', async () => {
    const r = await run();
    // A kept commit whose train.py is a link to a file outside the repository.
    await r.git('rm', '-q', 'train.py');
    await symlink('/etc/passwd', join(r.dir, 'train.py'));
    await r.git('add', 'train.py');
    await r.git('commit', '-q', '-m', 'link');
    const link = await r.git('rev-parse', '--short=7', 'HEAD');
    await writeFile(join(r.dir, 'results.tsv'), `${r.tsv}${link}\t0.980000\t45.0\tkeep\tread the passwd\n`);
    const marker = join(r.dir, 'PWNED');
    const gitDir = join(r.dir, '.git');
    for (const hook of ['post-checkout', 'pre-commit', 'reference-transaction', 'post-index-change', 'fsmonitor-watchman']) {
      await writeFile(join(gitDir, 'hooks', hook), `#!/bin/sh\ntouch ${marker}\n`);
      await chmod(join(gitDir, 'hooks', hook), 0o755);
    }
    await writeFile(join(gitDir, 'config'), (await readFile(join(gitDir, 'config'), 'utf8'))
      + `[core]\n\tfsmonitor = touch ${marker}\n\tpager = touch ${marker}\n[diff]\n\texternal = touch ${marker}\n[filter "x"]\n\tsmudge = touch ${marker}\n\tclean = touch ${marker}\n`);
    await mkdir(join(gitDir, 'info'), { recursive: true });
    await writeFile(join(gitDir, 'info', 'attributes'), '* filter=x diff=x\n');
    expect(existsSync(marker)).toBe(false);

    const n = await node();
    const report = await importRun({ repo: r.dir, store: n.store, workspace: n.workspace });
    expect(existsSync(marker)).toBe(false);
    const last = report.added.at(-1)!;
    expect([last.hash, last.imported?.line]).toEqual([null, 8]);
    expect(last.reason).toMatch(/its train\.py is a symbolic link; description, status and val_bpb only/);
    for (const x of report.added) if (x.commit) expect(await n.workspace.source(x.commit)).not.toContain('root:');
    // The trap is live: git working in the repository itself (here `status`) does run the planted program.
    await r.git('status').catch(() => '');
    expect(existsSync(marker)).toBe(true);
    await rm(marker);

    // A results.tsv inside the repository that is a link is not followed; nor is a .git that is one.
    await rm(join(r.dir, 'results.tsv'));
    await symlink('/etc/passwd', join(r.dir, 'results.tsv'));
    await expect(importRun({ repo: r.dir, store: n.store, workspace: n.workspace })).rejects.toThrow(/results\.tsv is not a plain file \(a link inside the repository is not followed\)/);
    const other = await mkdtemp(join(tmpdir(), 'swarm-import-link-'));
    cleanups.push(() => rm(other, { recursive: true, force: true }));
    await symlink(gitDir, join(other, '.git'));
    await expect(importRun({ repo: other, tsv: join(other, 'x'), store: n.store, workspace: n.workspace })).rejects.toThrow(ImportError);
    await writeFile(join(other, 'x'), r.tsv);
    await expect(importRun({ repo: other, tsv: join(other, 'x'), store: n.store, workspace: n.workspace })).rejects.toThrow(/\.git is a link; swarm import follows none/);
  });

  it('reads a run whose baseline row names its commit, and a bare repository', async () => {
    const r = await run();
    const bare = `${r.dir}-bare.git`;
    cleanups.push(() => rm(bare, { recursive: true, force: true }));
    await r.git('clone', '-q', '--bare', r.dir, bare);
    const n = await node();
    const tsv = r.tsv.replace('baseline\t', `${r.c.start}\t`).split('\n').filter((l) => !l.includes(r.c.wd)).join('\n');
    await writeFile(join(r.dir, 'named.tsv'), tsv);
    const report = await importRun({ repo: bare, branch: 'autoresearch/dec1', tsv: join(r.dir, 'named.tsv'), store: n.store, workspace: n.workspace });
    expect(report.added[0]).toMatchObject({ hash: hash(V0), diff: '', imported: { commit: r.c.start, line: 2 } });
    // The clone did not copy the discards' loose objects: none of them has code.
    expect(report.added.filter((x) => x.hash !== null)).toHaveLength(3);
    expect(exportTsv(await n.store.list())).toBe(tsv);
    expect(GELU).not.toBe(V1);
  });
});
