import { describe, expect, it } from 'vitest';
import type { SignedResult, SignedVerify } from '../../src/p2p/index.js';
import { scripted, setConst, swarmNode, until } from '../helpers/swarm.js';

describe("a peer's confirmed measurement", () => {
  it('is taken as the new best without running the same train.py again; a box that runs no peer code never takes it', async () => {
    const a = await swarmNode({ name: 'a', trust: { replicas: 1 } });
    const b = await swarmNode({ name: 'b', bootstrap: [a], trust: { replicas: 1 } });
    const c = await swarmNode({ name: 'c', bootstrap: [a], trust: { replicas: 0 }, refusePeerCode: 'not run: no sandbox' });
    await Promise.all([a.run(1, scripted([])), b.run(1, scripted([])), c.run(1, scripted([]))]);
    // A keeps a change on the baseline, which is also B's best: rebased onto B's best it is A's train.py exactly.
    await a.run(1, scripted([{ hypothesis: 'matrix lr 0.04', edit: setConst('MATRIX_LR', '0.04') }]));
    const win = (await a.store.list())[1]!;
    expect(win.status).toBe('keep');
    const arrived = (n: typeof b) => async () => (await n.shared()).some((r) => r.type === 'result' && r.experiment === win.id);
    await until("A's keep to reach B and C", async () => (await arrived(b)()) && (await arrived(c)()));

    // B replicates it first (it would lead the class), confirms it, and then takes it: no experiment run of it.
    await b.run(1, scripted([]));
    const verify = (await b.shared()).find((r): r is SignedVerify => r.type === 'verify' && r.experiment === win.id);
    expect(verify).toMatchObject({ verdict: 'confirm', peer: b.net.peerId });
    const taken = (await b.store.list()).find((r) => r.hash === win.hash)!;
    expect(taken).toMatchObject({ status: 'keep', origin: { kind: 'peer' }, measuredBy: { peer: a.net.peerId, experiment: win.id }, metrics: win.metrics });
    expect(taken.lineage).toContain(win.id);
    expect((await b.workspace.best()).hash).toBe(win.hash);
    // Not a run of B's: nothing published as B's result for it.
    await b.link.settled();
    expect((await b.shared()).filter((r): r is SignedResult => r.type === 'result' && r.peer === b.net.peerId && r.hash === win.hash)).toEqual([]);

    // C runs no peer code: the same change, even confirmed, is never taken, only recorded as tried.
    await until("B's confirmation to reach C", async () => (await c.shared()).some((r) => r.type === 'verify' && r.experiment === win.id));
    await c.run(1, scripted([]));
    const cRecords = await c.store.list();
    expect(cRecords.some((r) => r.measuredBy)).toBe(false);
    expect((await c.workspace.best()).hash).not.toBe(win.hash);
  });
});
