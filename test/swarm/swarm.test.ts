import { describe, expect, it } from 'vitest';
import { leaderboard } from '../../src/swarm/index.js';
import { recordIds, scripted, setConst, swarmNode, until } from '../helpers/swarm.js';
import { TRAINER } from '../helpers/paths.js';
import { mutateProposer } from '../../src/agent/index.js';

describe('a swarm of real libp2p nodes on 127.0.0.1', () => {
  it('shares every result; a late joiner catches up; every node prints the same leaderboard', async () => {
    const a = await swarmNode({ name: 'a' });
    const b = await swarmNode({ name: 'b', bootstrap: [a] });
    await Promise.all([a.run(4, mutateProposer({ seed: 1 })), b.run(4, mutateProposer({ seed: 2 }))]);
    const c = await swarmNode({ name: 'c', bootstrap: [b] });
    await until('all three to hold the same records', async () => {
      const [ia, ib, ic] = await Promise.all([recordIds(a), recordIds(b), recordIds(c)]);
      return ia.length > 0 && ia.join() === ib.join() && ib.join() === ic.join();
    });
    const results = (await c.shared()).filter((r) => r.type === 'result');
    // Every experiment that ran on A and B (4 each, none vetoed: different seeds, different ideas) reached C.
    const ran = [...(await a.store.list()), ...(await b.store.list())].filter((r) => r.status !== 'invalid' && r.status !== 'skip');
    expect(results.map((r) => (r as { experiment: string }).experiment).sort()).toEqual(ran.map((r) => r.id).sort());
    const boards = await Promise.all([a, b, c].map(async (n) => JSON.stringify(leaderboard(await n.shared()))));
    expect(boards[0]).toBe(boards[1]);
    expect(boards[1]).toBe(boards[2]);
    expect(leaderboard(await c.shared())[0]!.entries[0]!.val_bpb).toBe(Math.min(...ran.filter((r) => r.status === 'keep').map((r) => r.metrics!.val_bpb)));
  });

  it("never runs what failed elsewhere, nor what a peer is running now", async () => {
    const a = await swarmNode({ name: 'a' });
    const b = await swarmNode({ name: 'b', bootstrap: [a] });
    const c = await swarmNode({ name: 'c', bootstrap: [a] });
    const crash = { hypothesis: 'typo', edit: (s: string) => s.replace('summary(val_bpb, DEPTH, SEED)', 'summary(val_bpb * nope, DEPTH, SEED)') };
    await a.run(2, scripted([crash]));
    expect((await a.store.list())[1]).toMatchObject({ status: 'crash' });
    await until('the crash to reach B and C', async () => (await b.shared()).some((r) => r.type === 'result' && r.status === 'crash')
      && (await c.shared()).some((r) => r.type === 'result' && r.status === 'crash'));

    await b.run(2, scripted([crash]));
    await c.run(2, scripted([crash]));
    for (const n of [b, c]) {
      const [, repeat] = await n.store.list();
      // a duplicate is skipped, not run, and labelled with the peer that ran it
      expect(repeat).toMatchObject({ status: 'skip', outcome: null });
      expect(repeat!.reason).toMatch(/already tried by peer .* \(crash\)/);
    }
  });

  it('a candidate claimed by a running peer is not run twice', async () => {
    const a = await swarmNode({ name: 'a' });
    const b = await swarmNode({ name: 'b', bootstrap: [a] });
    const idea = { hypothesis: 'deeper', edit: setConst('DEPTH', '5') };
    process.env.SWARM_STUB_SLEEP = '0';
    await Promise.all([a.run(1, scripted([])), b.run(1, scripted([]))]);
    process.env.SWARM_STUB_SLEEP = '4';
    try {
      const running = a.run(1, scripted([idea]));
      await until("A's claim to reach B", async () => (await b.shared()).some((r) => r.type === 'claim'));
      await b.run(1, scripted([idea]));
      await running;
    } finally {
      delete process.env.SWARM_STUB_SLEEP;
    }
    expect((await a.store.list())[1]).toMatchObject({ status: 'keep' });
    const [, mine] = await b.store.list();
    expect(mine).toMatchObject({ status: 'skip' });
    expect(mine!.reason).toMatch(/being run by peer|already tried by peer/);
  });

  it('two peers that claim the same change at the same moment: exactly one runs it', async () => {
    // Longer than the 1 s default: a loaded CI machine can delay gossip on loopback.
    const settle = Number(process.env.SWARM_TEST_SETTLE_MS ?? 2000);
    const a = await swarmNode({ name: 'a', claimSettleMs: settle });
    const b = await swarmNode({ name: 'b', bootstrap: [a], claimSettleMs: settle });
    await Promise.all([a.run(1, scripted([])), b.run(1, scripted([]))]);
    await until('A and B connected', () => a.net.peers().some((p) => p.connected) && b.net.peers().some((p) => p.connected));
    // Worse ideas (discards), so neither node gets a peer's win to rebase in between.
    const ideas = [['DEPTH', '2'], ['DEPTH', '1'], ['MATRIX_LR', '0.001']].map(([k, v]) => ({ hypothesis: `${k} ${v}`, edit: setConst(k!, v!) }));
    for (const idea of ideas) {
      // A skip does not count against the run's one experiment: the skipping node then finds no more ideas (invalid).
      const [ra, rb] = await Promise.all([a.run(1, scripted([idea])), b.run(1, scripted([idea]))]).then(() =>
        Promise.all([a.store.list(), b.store.list()]).then(([la, lb]) => [la, lb].map((l) => l.find((r) => r.hypothesis === idea.hypothesis)!)));
      const ran = [ra!, rb!].filter((r) => r.status !== 'skip');
      expect(ran, `${idea.hypothesis}: ${ra!.status} / ${rb!.status}`).toHaveLength(1);
      expect([ra!, rb!].find((r) => r.status === 'skip')!.reason).toMatch(/being run by peer|already tried by peer/);
    }
  });

  it("rebases a peer's kept change onto its own best and runs it; a conflicting change is recorded, not run", async () => {
    // A has no sandbox: it records B's changes as refused and only contributes its own.
    const a = await swarmNode({ name: 'a', refusePeerCode: 'not run: no sandbox' });
    const b = await swarmNode({ name: 'b', bootstrap: [a] });
    // B first finds its own win, so its best differs from A's base.
    await b.run(2, scripted([{ hypothesis: 'embedding LR up', edit: setConst('EMBEDDING_LR', '0.5') }]));
    expect((await b.store.list())[1]).toMatchObject({ status: 'keep' });
    await until("B's keep to reach A", async () => (await a.shared()).some((r) => r.type === 'result' && r.status === 'keep' && r.peer === b.net.peerId && r.hash !== r.parentHash));
    await a.run(4, scripted([{ hypothesis: 'Muon LR up', edit: setConst('MATRIX_LR', '0.04') }]));
    const aRecords = await a.store.list();
    expect(aRecords.find((r) => r.origin.kind === 'peer')).toMatchObject({ status: 'invalid', reason: 'not run: no sandbox' });
    const aKept = aRecords.find((r) => r.hypothesis === 'Muon LR up')!;
    expect(aKept.status).toBe('keep');
    await until("A's kept result to reach B", async () => (await b.shared()).some((r) => r.type === 'result' && r.peer === a.net.peerId && r.hypothesis === 'Muon LR up'));

    await b.run(1, scripted([]));
    const rebased = (await b.store.list())[2]!;
    expect(rebased.origin.kind).toBe('peer');
    expect(rebased.diff).toContain('+MATRIX_LR = 0.04');
    expect(rebased.lineage).toContain(aKept.id);
    const source = await b.workspace.source(rebased.commit!);
    expect(source).toMatch(/^MATRIX_LR = 0\.04/m);
    expect(source).toMatch(/^EMBEDDING_LR = 0\.5/m);
    expect(rebased.status).toBe('keep');

    // B moves WARMDOWN_RATIO one way and A keeps another value on the same line: a conflict.
    await b.run(1, scripted([{ hypothesis: 'warmdown 0.6', edit: setConst('WARMDOWN_RATIO', '0.6') }]));
    await until("B's warmdown to reach A", async () => (await a.shared()).some((r) => r.type === 'result' && r.hypothesis === 'warmdown 0.6'));
    // A first records what B shared since (refused: no sandbox), then runs its own.
    await a.run(5, scripted([{ hypothesis: 'warmdown 0.7', edit: setConst('WARMDOWN_RATIO', '0.7') }]));
    expect((await a.store.list()).find((r) => r.hypothesis === 'warmdown 0.7')).toMatchObject({ status: 'keep' });
    await until("A's warmdown to reach B", async () => (await b.shared()).some((r) => r.type === 'result' && r.hypothesis === 'warmdown 0.7'));
    const before = (await b.store.list()).length;
    await b.run(1, scripted([]));
    const conflict = (await b.store.list())[before]!;
    expect(conflict).toMatchObject({ status: 'invalid', outcome: null, metrics: null, hypothesis: 'warmdown 0.7' });
    expect(conflict.reason).toMatch(/conflict/i);
  });

  it("a node stopped before it rebased a peer's kept change rebases it after a restart, and only once", async () => {
    // A records B's change (and B's best) as refused, no sandbox, and keeps its own; B's best differs from A's base.
    const a = await swarmNode({ name: 'a', refusePeerCode: 'not run: no sandbox' });
    const b = await swarmNode({ name: 'b', bootstrap: [a] });
    await b.run(2, scripted([{ hypothesis: 'embedding LR up', edit: setConst('EMBEDDING_LR', '0.5') }]));
    await until("B's keep to reach A", async () => (await a.shared()).some((r) => r.type === 'result' && r.hypothesis === 'embedding LR up'));
    await a.run(4, scripted([{ hypothesis: 'Muon LR up', edit: setConst('MATRIX_LR', '0.04') }]));
    const kept = (await a.store.list()).find((r) => r.hypothesis === 'Muon LR up')!;
    expect(kept.status).toBe('keep');
    await until("A's keep to reach B", async () => (await b.shared()).some((r) => r.type === 'result' && r.experiment === kept.id));
    // B holds the record but was stopped before its loop took the change up.
    await b.stop();

    const restarted = await swarmNode({ name: 'b', state: b.state, bootstrap: [a] });
    await restarted.run(1, scripted([]));
    const rebased = (await restarted.store.list())[2]!;
    expect(rebased).toMatchObject({ origin: { kind: 'peer' }, hypothesis: 'Muon LR up' });
    expect(rebased.lineage).toContain(kept.id);
    expect(await restarted.workspace.source(rebased.commit!)).toMatch(/^MATRIX_LR = 0\.04/m);

    // Built on now: the next restart does not queue it again.
    await restarted.stop();
    const again = await swarmNode({ name: 'b', state: b.state, bootstrap: [a] });
    await again.run(1, scripted([{ hypothesis: 'warmdown 0.6', edit: setConst('WARMDOWN_RATIO', '0.6') }]));
    expect((await again.store.list()).map((r) => r.hypothesis).slice(3)).toEqual(['warmdown 0.6']);
  });

  it("adopts a clearly better peer train.py of its hardware class when the change cannot be rebased", async () => {
    const a = await swarmNode({ name: 'a', refusePeerCode: 'not run: no sandbox' });
    const b = await swarmNode({ name: 'b', bootstrap: [a] });
    await b.run(2, scripted([{ hypothesis: 'warmdown 0.6', edit: setConst('WARMDOWN_RATIO', '0.6') }]));
    await a.run(4, scripted([{ hypothesis: 'warmdown 0.7', edit: setConst('WARMDOWN_RATIO', '0.7') }]));
    const aBest = (await a.store.list()).find((r) => r.hypothesis === 'warmdown 0.7')!;
    expect(aBest.status).toBe('keep');
    await until("A's best to reach B", async () => (await b.shared()).some((r) => r.type === 'best' && r.peer === a.net.peerId && r.hash === aBest.hash));

    await b.run(2, scripted([]));
    const [conflict, adopted] = (await b.store.list()).slice(2);
    expect(conflict).toMatchObject({ status: 'invalid', hypothesis: 'warmdown 0.7' });
    expect(adopted).toMatchObject({ status: 'keep', hash: aBest.hash, origin: { kind: 'adopt' } });
    expect(adopted!.lineage).toContain(aBest.id);
    expect((await b.workspace.best()).hash).toBe(aBest.hash);
  });

  it("refuses a peer's patch that imports socket, recording why", async () => {
    const a = await swarmNode({ name: 'a' });
    const b = await swarmNode({ name: 'b', bootstrap: [a] });
    await b.run(1, scripted([]));
    const sneaky = { hypothesis: 'faster', edit: (s: string) => setConst('MATRIX_LR', '0.04')(s).replace('from prepare import summary', 'import socket\nfrom prepare import summary') };
    await a.run(2, scripted([sneaky]));
    expect((await a.store.list())[1]).toMatchObject({ status: 'keep' });
    await until('the patch to reach B', async () => (await b.shared()).some((r) => r.type === 'result' && r.status === 'keep' && r.peer === a.net.peerId));
    await b.run(1, scripted([]));
    const refused = (await b.store.list())[1]!;
    expect(refused).toMatchObject({ status: 'invalid', metrics: null });
    expect(refused.reason).toMatch(/socket/);
  });
});

describe('a swarm over the real trainer', () => {
  it("a peer's real CPU results reach a node that joins afterwards, with the same leaderboard", async () => {
    const a = await swarmNode({ name: 'real-a', trainerDir: TRAINER, budget: 2 });
    await a.run(2, mutateProposer({ seed: 5 }));
    const b = await swarmNode({ name: 'real-b', trainerDir: TRAINER, bootstrap: [a] });
    await until('B to catch up', async () => (await recordIds(b)).join() === (await recordIds(a)).join());
    const board = leaderboard(await b.shared());
    expect(board).toHaveLength(1);
    expect(board).toEqual(leaderboard(await a.shared()));
    expect(Number.isFinite(board[0]!.entries[0]!.val_bpb)).toBe(true);
  });
});
