import { describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import type { Trainer } from '../../src/runner/index.js';
import { leaderboard, peerTable } from '../../src/swarm/index.js';
import type { SignedResult, SignedVerify } from '../../src/p2p/index.js';
import { scripted, setConst, swarmNode, until, type SwarmNode } from '../helpers/swarm.js';

/** A box that reports val_bpb 0.5 for every experiment, whatever its runs measured (its baseline stays honest). */
const liar = (real: Trainer): Trainer => ({
  hardware: () => real.hardware(),
  async run(req) {
    const result = await real.run(req);
    const isBaseline = !req.source.includes('DEPTH = 2');
    return result.metrics && !isBaseline ? { ...result, metrics: { ...result.metrics, val_bpb: 0.5 } } : result;
  },
});

const resultOf = async (n: SwarmNode, experiment: string) =>
  (await n.shared()).find((r): r is SignedResult => r.type === 'result' && r.experiment === experiment);

/** The node runs its baseline and one clear win (a would-be best of its class); returns the win. */
async function baselineAndWin(n: SwarmNode): Promise<ExperimentRecord> {
  await n.run(2, scripted([{ hypothesis: 'matrix lr 0.04', edit: setConst('MATRIX_LR', '0.04') }]));
  const win = (await n.store.list())[1]!;
  expect(win.status).toBe('keep');
  return win;
}

describe('replication', () => {
  it('a peer that lies about its val_bpb ends up disputed on every node, and its patch is neither rebased nor adopted', async () => {
    const trust = { replicas: 2 };
    const l = await swarmNode({ name: 'liar', trainer: liar, trust });
    const a = await swarmNode({ name: 'a', bootstrap: [l], trust });
    const b = await swarmNode({ name: 'b', bootstrap: [l, a], trust });
    await until('all three connected', () => [l, a, b].every((n) => n.net.peers().filter((p) => p.connected).length === 2));

    // The liar keeps a change that really gives ~1.04 (worse than its baseline) and says 0.5.
    await l.run(2, scripted([{ hypothesis: 'shallower', edit: setConst('DEPTH', '2') }]));
    const lie = (await l.store.list())[1]!;
    expect(lie).toMatchObject({ status: 'keep', metrics: { val_bpb: 0.5 } });
    await until('the lie to reach A and B', async () => (await resultOf(a, lie.id)) !== undefined && (await resultOf(b, lie.id)) !== undefined);

    // The honest boxes work on: they replicate the would-be best before anything else.
    const ideas = () => scripted([{ hypothesis: 'embedding lr 0.4', edit: setConst('EMBEDDING_LR', '0.4') }]);
    await Promise.all([a.run(3, ideas()), b.run(3, ideas())]);

    const verdicts = async (n: SwarmNode) => (await n.shared()).filter((r): r is SignedVerify => r.type === 'verify' && r.experiment === lie.id);
    await until('both replications to reach every node', async () => (await Promise.all([l, a, b].map(verdicts))).every((v) => v.length === 2));
    for (const n of [l, a, b]) {
      const vs = await verdicts(n);
      expect(new Set(vs.map((v) => v.peer))).toEqual(new Set([a.net.peerId, b.net.peerId]));
      for (const v of vs) {
        expect(v).toMatchObject({ claimant: l.net.peerId, claimed: 0.5, verdict: 'dispute', hash: lie.hash });
        expect(v.val_bpb).toBeGreaterThan(1); // what the liar's train.py really gives
      }
      // The whole class (a race between A and B may add a sixth kept result, past the top five).
      const entry = leaderboard(await n.shared(), 100)[0]!.entries.find((e) => e.experiment === lie.id)!;
      expect(entry).toMatchObject({ standing: 'disputed', disputes: 2, confirmations: 0 });
      // Disputed results rank below every other, however low their claim.
      expect(entry.rank).toBeGreaterThan(1);
      const liarRow = peerTable(await n.shared()).find((p) => p.peer === l.net.peerId)!;
      expect(liarRow.disputed).toBe(1);
      expect(liarRow.score).toBeLessThan(0);
    }

    for (const n of [a, b]) {
      const records = await n.store.list();
      // Nothing of the liar's ran here as a candidate, and the best does not descend from it.
      expect(records.filter((r) => r.lineage?.includes(lie.id) && r.status !== 'invalid' && r.status !== 'skip')).toEqual([]);
      expect(records.filter((r) => r.origin.kind === 'adopt')).toEqual([]);
      const best = records.filter((r) => r.status === 'keep').at(-1)!;
      expect(best.lineage ?? []).not.toContain(lie.id);
      expect(n.logs.some((m) => /not rebased: its result is disputed/.test(m))).toBe(true);
    }
  });

  it('a late joiner catching up on history replicates only the current best, not every best of the past', async () => {
    const a = await swarmNode({ name: 'a', trust: { replicas: 1 } });
    await a.run(3, scripted([
      { hypothesis: 'matrix lr 0.03', edit: setConst('MATRIX_LR', '0.03') },
      { hypothesis: 'embedding lr 0.5', edit: setConst('EMBEDDING_LR', '0.5') },
    ]));
    const kept = (await a.store.list()).filter((r) => r.status === 'keep');
    expect(kept).toHaveLength(3); // baseline and two wins, each the best of its time
    const b = await swarmNode({ name: 'b', bootstrap: [a], trust: { replicas: 1 } });
    await until('B to catch up', async () => (await b.shared()).filter((r) => r.type === 'result').length === 3);
    await b.run(2, scripted([]));
    const verified = (await b.shared()).filter((r): r is SignedVerify => r.type === 'verify');
    expect(verified.map((v) => v.experiment)).toEqual([kept.at(-1)!.id]);
  });

  it('an honest result is confirmed by its replicas and marked verified', async () => {
    const trust = { replicas: 1 };
    const a = await swarmNode({ name: 'a', trust });
    const b = await swarmNode({ name: 'b', bootstrap: [a], trust });
    const win = await baselineAndWin(a);
    await until('the win to reach B', async () => (await resultOf(b, win.id)) !== undefined);
    await b.run(2, scripted([])); // its baseline, then the replication (before any proposal)
    await until('the verification to reach A', async () =>
      leaderboard(await a.shared())[0]!.entries.find((e) => e.experiment === win.id)?.standing === 'verified');
    const entry = leaderboard(await b.shared())[0]!.entries.find((e) => e.experiment === win.id)!;
    expect(entry).toMatchObject({ rank: 1, standing: 'verified', confirmations: 1, disputes: 0 });
  });

  it('peers that claim the same replication at once: only as many as asked for run it', async () => {
    const trust = { replicas: 1 };
    const a = await swarmNode({ name: 'a', trust });
    const others: SwarmNode[] = [];
    for (const name of ['b', 'c', 'd']) others.push(await swarmNode({ name, bootstrap: [a, ...others], trust }));
    await until('all connected', () => others.every((n) => n.net.peers().filter((p) => p.connected).length === 3));
    const win = await baselineAndWin(a);
    await until('every node to hold the win', async () => (await Promise.all(others.map((n) => resultOf(n, win.id)))).every(Boolean));
    await Promise.all(others.map((n) => n.run(2, scripted([]))));
    await until('a verification to reach A', async () => (await a.shared()).some((r) => r.type === 'verify'));
    await Promise.all(others.map((n) => n.link.settled()));
    const verifies = (await a.shared()).filter((r): r is SignedVerify => r.type === 'verify' && r.experiment === win.id);
    const claims = (await a.shared()).filter((r) => r.type === 'claim' && r.fingerprint.endsWith(`/${win.id}`));
    expect(verifies, `${claims.length} claims`).toHaveLength(1);
  });

  it('a replication claimed before a restart is still done after it, once', async () => {
    // Two replicas wanted, one peer able: B's own verification must not leave the count short.
    const trust = { replicas: 2 };
    const a = await swarmNode({ name: 'a', trust });
    const b = await swarmNode({ name: 'b', bootstrap: [a], trust });
    const win = await baselineAndWin(a);
    await until('B to claim the replication', async () =>
      (await b.shared()).some((r) => r.type === 'claim' && r.peer === b.net.peerId && r.fingerprint.endsWith(`/${win.id}`)));
    await b.stop(); // before its loop ran it

    const restarted = await swarmNode({ name: 'b', state: b.state, bootstrap: [a], trust });
    await restarted.run(2, scripted([])); // its baseline, then the replication
    await until('the verification to reach A', async () =>
      leaderboard(await a.shared())[0]!.entries.find((e) => e.experiment === win.id)?.standing === 'verified');
    await restarted.stop();
    const again = await swarmNode({ name: 'b', state: b.state, bootstrap: [a], trust });
    await again.run(1, scripted([{ hypothesis: 'warmdown 0.6', edit: setConst('WARMDOWN_RATIO', '0.6') }]));
    const verifies = (await again.shared()).filter((r): r is SignedVerify => r.type === 'verify' && r.experiment === win.id);
    expect(verifies.map((v) => v.peer)).toEqual([b.net.peerId]);
  });
});
