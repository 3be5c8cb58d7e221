import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importRun } from '../../src/import/index.js';
import { validateRecord, type SignedResult } from '../../src/p2p/index.js';
import { openStore } from '../../src/store/index.js';
import { swarmSpec } from '../../src/plot/index.js';
import { leaderboard, peerTable } from '../../src/swarm/index.js';
import { openWorkspace } from '../../src/workspace/index.js';
import { STUB_TRAINER } from '../helpers/paths.js';
import { makeRecord } from '../helpers/records.js';
import { swarmNode, until } from '../helpers/swarm.js';
import { hash, makeRun, V2, WD } from './fixture.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('imported records on the next join', () => {
  it('are published once to peers, marked imported: their changes count as tried, and they rank nowhere', async () => {
    const run = await makeRun();
    const state = await mkdtemp(join(tmpdir(), 'swarm-import-join-'));
    cleanups.push(() => run.cleanup(), () => rm(state, { recursive: true, force: true }));
    // Imported into the state folder as the swarmNode helper lays it out, before the node starts.
    const store = await openStore(join(state, 'db'));
    const workspace = await openWorkspace({ dir: join(state, 'ws.git'), baseline: await readFile(join(STUB_TRAINER, 'train.py'), 'utf8') });
    const { added } = await importRun({ repo: run.dir, store, workspace });
    await store.close();

    const a = await swarmNode({ name: 'a', state });
    const b = await swarmNode({ name: 'b', bootstrap: [a] });
    const imported = async () => (await b.shared()).filter((r): r is SignedResult => r.type === 'result' && r.peer === a.net.peerId);
    await until('the imported rows to reach B', async () => (await imported()).length === 6);
    const got = await imported();
    expect(got.every((r) => r.imported === true)).toBe(true);
    expect(got.map((r) => [r.experiment, r.status, r.hash])).toEqual(added.map((r) => [r.id, r.status, r.hash]));
    expect(got.map((r) => r.reason)).toEqual([null, null, 'not-better', 'crash', null, 'not-better']);
    // On the wire: optional, and when present exactly `true`.
    const { imported: _, ...plain } = got[0]!;
    expect(validateRecord(plain).ok).toBe(true);
    expect(validateRecord({ ...got[0]!, imported: false })).toMatchObject({ ok: false, error: 'imported: expected true' });
    // No `best` is claimed for them: another run's numbers are not this program's.
    expect((await b.shared()).some((r) => r.type === 'best')).toBe(false);
    expect(leaderboard(await b.shared())).toEqual([]);
    expect(peerTable(await b.shared())).toEqual([]);
    expect(swarmSpec(await b.shared(), { by: 'experiment', program: null, self: null }).points).toEqual([]);

    // B would skip the exact change the imported run discarded, and its proposers hear of the gone ones.
    const wd = added.at(-1)!;
    const veto = await b.link.hooks.admit(makeRecord({ id: 'mlx0000001-0000abcd', parentHash: hash(V2), hash: hash(WD), diff: wd.diff }));
    expect(veto).toMatch(/^already tried by peer .* \(discard, val_bpb 0\.991000\)$/);
    expect(await b.link.hooks.tried()).toContain(hash(WD));
    expect((await b.link.hooks.history()).map((h) => h.hypothesis)).toContain(`[imported by peer ${a.net.peerId.slice(-8)}] switch to GeLU activation`);

    // A restarted shares nothing twice.
    await a.stop();
    const again = await swarmNode({ name: 'a2', state });
    await again.link.settled();
    const mine = (await again.shared()).filter((r) => r.type === 'result' && r.peer === again.net.peerId);
    expect(mine).toHaveLength(6);
  }, 60_000);
});
