/**
 * Peer scoring (src/p2p/scoring.ts, docs/protocol.md §4.4): many honest nodes behind one IP address
 * keep exchanging gossip, while a peer sending invalid records is still graylisted.
 */
import '../../src/p2p/shim.js';
import { describe, expect, it } from 'vitest';
import { gossipsub } from '@libp2p/gossipsub';
import { PeerScore, createPeerScoreParams, defaultPeerScoreThresholds } from '@libp2p/gossipsub/score';
import { defaultLogger } from '@libp2p/logger';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { topics } from '../../src/p2p/index.js';
import { SCORE_THRESHOLDS, gossipsubOptions, peerScoreParams } from '../../src/p2p/scoring.js';
import { PROGRAM, publish, resultBody, nodePool, waitFor, type TestNode, rawPeer } from './helpers.js';

const TOPICS = Object.values(topics(PROGRAM));
const node = nodePool();

/** The score a node gives each of `count` peers that share one address and did nothing else. */
function colocatedScore(params: ReturnType<typeof peerScoreParams>, count: number): number {
  const score = new PeerScore(params, null, defaultLogger(), { scoreCacheValidityMs: 0 });
  const ids = Array.from({ length: count }, (_, i) => `peer${i}`);
  for (const id of ids) {
    score.addPeer(id);
    score.addIP(id, '192.0.2.7');
  }
  return score.score(ids[0]!);
}

describe('peer scoring', () => {
  it('gossipsub\'s default parameters graylist 22 honest peers of one address; ours leave them at 0', () => {
    // The fault the issue reports, shown on the library itself: (22 − 10)² × −5 = −720.
    const defaults = createPeerScoreParams({ topics: peerScoreParams(TOPICS).topics });
    expect(colocatedScore(defaults, 22)).toBe(-720);
    expect(colocatedScore(defaults, 22)).toBeLessThan(defaultPeerScoreThresholds.graylistThreshold);
    for (const n of [2, 22, 300]) expect(colocatedScore(peerScoreParams(TOPICS), n)).toBe(0);
    // Every record topic is scored, and the options carry the same parameters and thresholds.
    const opts = gossipsubOptions(TOPICS);
    expect(Object.keys(opts.scoreParams!.topics!).sort()).toEqual([...TOPICS].sort());
    expect(opts.scoreThresholds).toBe(SCORE_THRESHOLDS);
    expect(opts.allowedTopics).toEqual(TOPICS);
  });

  it('20 identities and two honest nodes on 127.0.0.1 keep exchanging gossip; an invalid-record sender is graylisted', async () => {
    // The setting: two honest nodes, connected to each other and to 20 more identities, all
    // from one address, so each sees 21 peers of 127.0.0.1. Anti-entropy is off so that only
    // gossip can deliver (the sync on connect is over before anything is published).
    const off = { extra: { antiEntropyMs: 0 } };
    const a = await node(off);
    const b = await node({ bootstrap: [a.net.addresses()[0]!], ...off });
    const boot = [a.net.addresses()[0]!, b.net.addresses()[0]!];
    const crowd = await Promise.all(Array.from({ length: 20 }, () => node({ bootstrap: boot, ...off })));
    for (const n of [a, b]) await waitFor(() => n.net.peers().filter((p) => p.connected).length === 21, 90_000, 'honest node has 21 peers');
    // Scores are recomputed at heartbeats (1 s); give the subscriptions and the scores a few.
    await new Promise((r) => setTimeout(r, 3000));

    // `from` is the origin: the record came by gossip (the only other path, sync, is idle here).
    const viaGossip = async (from: TestNode, to: TestNode, n: number): Promise<void> => {
      const rec = await publish(from, resultBody(n));
      await waitFor(() => to.received.some((x) => x.r.sig === rec.sig), 10_000, `record ${n} at the other honest node`);
      expect(to.received.find((x) => x.r.sig === rec.sig)!.from).toBe(from.net.peerId);
    };
    await viaGossip(a, b, 1);
    await viaGossip(b, a, 2);
    await viaGossip(crowd[7]!, a, 3);
    await viaGossip(crowd[7]!, b, 3);
    for (const n of [a, b]) {
      const scores = n.net.stats().scores;
      expect(Object.keys(scores)).toHaveLength(21);
      for (const [peer, s] of Object.entries(scores)) expect([peer, s >= 0]).toEqual([peer, true]);
    }
    // A peer from the same address sending invalid records is still penalised down to the graylist.
    const key = await generateKeyPair('Ed25519');
    const spammer = await rawPeer({ gossip: true, privateKey: key });
    try {
      const spammerId = spammer.peerId.toString();
      const T = topics(PROGRAM);
      spammer.services.pubsub.subscribe(T.result);
      await spammer.dial(multiaddr(a.net.addresses()[0]!));
      await waitFor(() => spammer.services.pubsub.getSubscribers(T.result).some((p) => p.toString() === a.net.peerId), 10_000, 'spammer sees a');
      const dropped = (): number => Object.values(a.net.stats().dropped).reduce((x, y) => x + y, 0);
      const before = dropped();
      for (let i = 0; i < 12; i++) await spammer.services.pubsub.publish(T.result, new TextEncoder().encode(`{"not":"a record ${i}"}`));
      await waitFor(() => dropped() - before === 12, 10_000, '12 invalid records counted');
      await waitFor(() => (a.net.stats().scores[spammerId] ?? 0) < SCORE_THRESHOLDS.graylistThreshold, 5_000, 'spammer graylisted');
      // Graylisted: what it sends now is ignored before validation.
      for (let i = 0; i < 5; i++) await spammer.services.pubsub.publish(T.result, new TextEncoder().encode(`{"more":${i}}`));
      await new Promise((r) => setTimeout(r, 1000));
      expect(dropped() - before).toBe(12);

      // The honest ones are unaffected.
      await viaGossip(a, b, 4);
      const after = a.net.stats().scores;
      for (const n of [b, ...crowd]) expect(after[n.net.peerId]).toBeGreaterThanOrEqual(0);
    } finally {
      await spammer.stop();
    }
  }, 180_000);
});
