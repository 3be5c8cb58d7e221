import { describe, expect, it } from 'vitest';
import { describeProgram } from '../../src/program/index.js';
import { leaderboard } from '../../src/swarm/index.js';
import { REPO, STUB_TRAINER } from '../helpers/paths.js';
import { scripted, setConst, swarmNode, until, type SwarmNode } from '../helpers/swarm.js';
import { join } from 'node:path';

/** A win of a node's own; nodes racing with the same idea would veto each other's, so each gets its own value. */
const ownWin = (lr = '0.04') => scripted([{ hypothesis: `Muon LR ${lr}`, edit: setConst('MATRIX_LR', lr) }]);
const keptBy = async (n: SwarmNode, from: SwarmNode) =>
  (await n.shared()).some((r) => r.type === 'result' && r.status === 'keep' && r.peer === from.net.peerId && r.hash !== r.parentHash);

describe('run policy', () => {
  it("under 'none' a peer's win is shared but never run; under 'allowlist' a listed peer's win is rebased", async () => {
    // B takes nothing from its peers, so its run is its own idea.
    const b = await swarmNode({ name: 'b', trust: { policy: 'none' } });
    const none = await swarmNode({ name: 'none', bootstrap: [b], trust: { policy: 'none' } });
    const listed = await swarmNode({ name: 'listed', bootstrap: [b], trust: { policy: 'allowlist', allowlist: [b.net.peerId] } });
    const unlisted = await swarmNode({ name: 'unlisted', bootstrap: [b], trust: { policy: 'allowlist', allowlist: [] } });
    // Each has a best of its own first, so B's change rebased onto it is a new train.py.
    await Promise.all([none, listed, unlisted].map((n, i) => n.run(2, ownWin(['0.04', '0.035', '0.03'][i]))));
    await b.run(2, scripted([{ hypothesis: 'embedding LR up', edit: setConst('EMBEDDING_LR', '0.5') }]));
    await until("B's win to reach every node", async () => (await Promise.all([none, listed, unlisted].map((n) => keptBy(n, b)))).every(Boolean), 60_000);

    for (const n of [none, listed, unlisted]) await n.run(1, scripted([]));
    const ranPeer = async (n: SwarmNode) => (await n.store.list()).filter((r) => r.origin.kind === 'peer');
    expect(await ranPeer(none)).toEqual([]);
    expect(none.logs.some((m) => /not rebased: run policy 'none'/.test(m))).toBe(true);
    expect(await ranPeer(unlisted)).toEqual([]);
    expect(unlisted.logs.some((m) => /not rebased: run policy 'allowlist': the peer is not on the allowlist/.test(m))).toBe(true);
    expect(await ranPeer(listed)).toMatchObject([{ status: 'keep', diff: expect.stringContaining('+EMBEDDING_LR = 0.5') }]);
  });

  it("under 'verified' a peer's win waits for a confirming replication, then runs", async () => {
    // B takes nothing from its peers, so its run is its own idea.
    const b = await swarmNode({ name: 'b', trust: { policy: 'none' } });
    const c = await swarmNode({ name: 'c', bootstrap: [b], trust: { replicas: 1 } });
    const v = await swarmNode({ name: 'v', bootstrap: [b, c], trust: { policy: 'verified' } });
    await v.run(2, ownWin());
    await b.run(2, scripted([{ hypothesis: 'embedding LR up', edit: setConst('EMBEDDING_LR', '0.5') }]));
    await until("B's win to reach V", () => keptBy(v, b), 60_000);
    await v.run(1, scripted([])); // nothing it may run yet: the proposal fails
    expect((await v.store.list()).filter((r) => r.origin.kind === 'peer')).toEqual([]);

    await until("B's win to reach C", () => keptBy(c, b), 60_000);
    await c.run(2, scripted([])); // C replicates B's would-be best and confirms it
    const win = (await b.store.list())[1]!;
    await until('the confirmation to reach V', async () =>
      leaderboard(await v.shared())[0]!.entries.find((e) => e.experiment === win.id)?.standing === 'verified', 60_000);
    await v.run(1, scripted([]));
    expect((await v.store.list()).filter((r) => r.origin.kind === 'peer')).toMatchObject([{ status: 'keep', lineage: expect.arrayContaining([win.id]) }]);
  });
});

describe('hardware classes and budgets', () => {
  it('two nodes on different budgets are different programs: they share no record and no ranking', async () => {
    const stub = (f: string) => join(STUB_TRAINER, f);
    const inputs = { preparePath: stub('prepare.py'), evaluatePath: stub('evaluate.py'), kernelsPath: null, baselinePath: stub('train.py'), programPath: join(REPO, 'node', 'program.md'), dataset: 'sotu' as const, nodeModules: join(REPO, 'node_modules') };
    const [p60, p300] = await Promise.all([60, 300].map((budget) => describeProgram({ ...inputs, budget })));
    expect(p60!.id).not.toBe(p300!.id);
    const a = await swarmNode({ name: 'a60', program: p60!.id });
    const b = await swarmNode({ name: 'b300', program: p300!.id, bootstrap: [a] });
    const c = await swarmNode({ name: 'c60', program: p60!.id, bootstrap: [a, b] });
    await until('B to connect to A', () => b.net.peers().some((p) => p.id === a.net.peerId && p.connected), 60_000);
    await Promise.all([a.run(1, scripted([])), b.run(1, scripted([]))]);
    await until("A's baseline to reach C", async () => (await c.shared()).some((r) => r.peer === a.net.peerId), 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await b.shared()).filter((r) => r.peer !== b.net.peerId)).toEqual([]);
    expect((await a.shared()).filter((r) => r.peer === b.net.peerId)).toEqual([]);
    expect(leaderboard(await b.shared())[0]!.entries.map((e) => e.peer)).toEqual([b.net.peerId]);
    // Connected, yet sharing nothing: both say why.
    await until('B to explain why A shares nothing', () => b.logs.some((m) => m.includes(`peer ${a.net.peerId} is on research program ${p60!.id}, not ${p300!.id}`)), 60_000);
    expect(a.logs.some((m) => m.includes(`is on research program ${p300!.id}, not ${p60!.id}`))).toBe(true);
  });
});
