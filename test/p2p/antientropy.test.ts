/**
 * Periodic anti-entropy (src/p2p/antientropy.ts, docs/protocol.md §5.1): connected nodes whose
 * gossip was lost converge without reconnecting, and a round costs no sync while nothing changed.
 */
import '../../src/p2p/shim.js';
import { describe, expect, it } from 'vitest';
import { createLibp2p } from 'libp2p';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { AntiEntropy, canonicalJson, encodeDigestMessage, parseDigestMessage, protocols, sha256Hex, summaryDigest, type AntiEntropyInit } from '../../src/p2p/index.js';
import { PROGRAM, publish, resultBody, nodePool, startNode, waitFor } from './helpers.js';

const node = nodePool();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('digest messages', () => {
  it('digests the canonical JSON of the contiguous marks, whatever the key order, leaving zeros out', () => {
    const a = '12D3KooWA', b = '12D3KooWB';
    const d = summaryDigest({ [b]: 7, [a]: 3 });
    expect(d).toBe(sha256Hex(new TextEncoder().encode(`{"${a}":3,"${b}":7}`)));
    expect(summaryDigest({ [a]: 3, [b]: 7, '12D3KooWC': 0 })).toBe(d);
    expect(summaryDigest({})).toBe(sha256Hex(new TextEncoder().encode('{}')));
    expect(summaryDigest({ [a]: 3, [b]: 8 })).not.toBe(d);
    expect(canonicalJson({ [b]: 7, [a]: 3 })).toBe(`{"${a}":3,"${b}":7}`);
  });

  it('round-trips the one message shape and refuses every other', () => {
    const d = 'ab'.repeat(32);
    expect(new TextDecoder().decode(encodeDigestMessage(d))).toBe(`{"digest":"${d}"}`);
    expect(parseDigestMessage(encodeDigestMessage(d))).toBe(d);
    const bad = [
      `{"digest":"${d.toUpperCase()}"}`, `{"digest":"${d}0"}`, `{"digest":"${d}","more":1}`, '{}', `["${d}"]`, 'null',
      `{"digest":5}`, `\ufeff{"digest":"${d}"}`, `{"digest":"${d}"`, `{"digest":"${d}","x":"${'y'.repeat(300)}"}`,
    ];
    for (const s of bad) expect(() => parseDigestMessage(new TextEncoder().encode(s)), s).toThrow();
    expect(() => parseDigestMessage(Uint8Array.of(0xc3, 0x28))).toThrow();
  });
});

describe('AntiEntropy rounds', () => {
  function harness(over: Partial<AntiEntropyInit> & { theirs: () => string }) {
    const calls = { ask: 0, pull: 0, inFlight: 0, maxInFlight: 0 };
    const ae = new AntiEntropy({
      periodMs: 20, known: () => ({ x: 1 }), peers: () => ['p1', 'p2', 'p3'], busy: new Set(), log: { info() {}, warn() {} },
      ask: async () => {
        calls.ask++;
        calls.maxInFlight = Math.max(calls.maxInFlight, ++calls.inFlight);
        await sleep(60); // longer than the period: ticks come while rounds are in flight
        calls.inFlight--;
        return over.theirs();
      },
      pull: async () => {
        calls.pull++;
        return 0;
      },
      ...over,
    });
    return { ae, calls };
  }

  it('never runs two rounds with one peer at a time, bounds peers per round, and stops', async () => {
    const { ae, calls } = harness({ peersPerRound: 2, peers: () => ['p1'], theirs: () => summaryDigest({ x: 1 }) });
    ae.start();
    await sleep(400);
    ae.stop();
    expect(calls.ask).toBeGreaterThan(2);
    expect(calls.maxInFlight).toBe(1);
    expect(calls.pull).toBe(0); // same digest: nothing to pull
    const n = calls.ask;
    await sleep(150);
    expect(calls.ask).toBe(n);

    const many = harness({ peersPerRound: 2, theirs: () => summaryDigest({ x: 1 }) });
    many.ae.tick();
    expect(many.calls.ask).toBe(2);
  });

  it('pulls from a peer once per digest of its, and again only when that digest changes', async () => {
    let theirs = summaryDigest({ x: 2 });
    const { ae, calls } = harness({ peers: () => ['p1'], theirs: () => theirs });
    for (let i = 0; i < 3; i++) {
      ae.tick();
      await sleep(80);
    }
    expect(calls.ask).toBe(3);
    expect(calls.pull).toBe(1); // a peer that stays ahead (or lies without changing) costs one sync
    theirs = summaryDigest({ x: 3 });
    ae.tick();
    await sleep(80);
    expect(calls.pull).toBe(2);
  });

  it('answers with its own digest and starts a round toward a differing peer, at most once per half period', async () => {
    const { ae, calls } = harness({ periodMs: 10_000, theirs: () => summaryDigest({ x: 5 }) });
    expect(ae.answer('p1', summaryDigest({ x: 1 }))).toBe(summaryDigest({ x: 1 }));
    expect(calls.ask).toBe(0); // same digest: nothing to do
    for (let i = 0; i < 5; i++) ae.answer('p1', 'f'.repeat(64));
    await sleep(100);
    expect(calls.ask).toBe(1);
    expect(calls.pull).toBe(1);
  });
});

/**
 * Makes chosen nodes deaf to gossip: gossipsub's handler for a received message returns early on
 * them. The patch is on the class both SwarmNets use; a probe node gives its prototype.
 */
async function gossipDrop(): Promise<{ deaf: Set<string>; connectionIds(self: string, peer: string): string[]; restore(): void }> {
  const probe = await createLibp2p({ services: { identify: identify(), pubsub: gossipsub() }, start: false });
  const proto = Object.getPrototypeOf(probe.services.pubsub) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = { receive: proto.handleReceivedMessage!, start: proto.start! };
  const deaf = new Set<string>();
  const instances = new Map<string, { components: { connectionManager: { getConnections(p: unknown): { id: string }[] } } }>();
  const selfOf = (x: unknown): string => (x as { components: { peerId: { toString(): string } } }).components.peerId.toString();
  proto.handleReceivedMessage = function (this: unknown, ...args: unknown[]) {
    return deaf.has(selfOf(this)) ? Promise.resolve() : original.receive.apply(this, args);
  };
  proto.start = function (this: unknown, ...args: unknown[]) {
    instances.set(selfOf(this), this as never);
    return original.start.apply(this, args);
  };
  return {
    deaf,
    connectionIds: (self, peer) => instances.get(self)!.components.connectionManager.getConnections(peerIdFromString(peer)).map((c) => c.id),
    restore: () => Object.assign(proto, { handleReceivedMessage: original.receive, start: original.start }),
  };
}

describe('anti-entropy between connected nodes', () => {
  it('refuses a period that would make its timer a busy loop', async () => {
    for (const antiEntropyMs of [Number.NaN, Number.POSITIVE_INFINITY, -1, 2 ** 31]) {
      await expect(startNode({ extra: { antiEntropyMs } })).rejects.toThrow(/anti-entropy period/);
    }
  });

  it('repairs records lost on gossip without reconnecting; costs no sync while nothing changed', async () => {
    const drop = await gossipDrop();
    try {
      const a = await node({ extra: { antiEntropyMs: 300 } });
      const boot = [a.net.addresses()[0]!];
      const b = await node({ bootstrap: boot, extra: { antiEntropyMs: 300 } });
      const control = await node({ bootstrap: boot, extra: { antiEntropyMs: 0 } }); // anti-entropy off
      await waitFor(() => a.net.peers().filter((p) => p.connected).length === 2, 10_000, 'both connected to a');
      await sleep(1500); // mesh formed, catch-up on connect done
      const first = await publish(a, resultBody(1));
      await waitFor(() => b.received.length === 1 && control.received.length === 1, 10_000, 'gossip works');
      const conns = { b: drop.connectionIds(b.net.peerId, a.net.peerId), control: drop.connectionIds(control.net.peerId, a.net.peerId) };
      expect(conns.b).toHaveLength(1);
      expect(conns.control).toHaveLength(1);

      // Sync requests a serves: its store's records() is what answers them.
      let served = 0;
      const records = a.source.records.bind(a.source);
      a.source.records = async (after, limit) => {
        served++;
        return records(after, limit);
      };

      // b and the control stop hearing gossip; a publishes three records meanwhile.
      drop.deaf.add(b.net.peerId);
      drop.deaf.add(control.net.peerId);
      const lost = [await publish(a, resultBody(2)), await publish(a, resultBody(3)), await publish(a, resultBody(4))];
      await waitFor(() => lost.every((r) => b.received.some((x) => x.r.sig === r.sig)), 10_000, 'b repaired by anti-entropy');
      // Pulled through sync from a (the responder), over the same connection, never re-dialled.
      expect(b.received.filter((x) => lost.some((r) => r.sig === x.r.sig)).every((x) => x.from === a.net.peerId)).toBe(true);
      expect(served).toBeGreaterThanOrEqual(1);
      expect(drop.connectionIds(b.net.peerId, a.net.peerId)).toEqual(conns.b);
      expect(b.net.known()[a.net.peerId]).toBe(4);

      // Without anti-entropy the same loss stays: the control never gets them on this connection.
      await sleep(1500);
      expect(control.received.map((x) => x.r.sig)).toEqual([first.sig]);
      expect(drop.connectionIds(control.net.peerId, a.net.peerId)).toEqual(conns.control);

      // Converged: rounds go on (digests exchanged) but nobody syncs.
      const before = served;
      await sleep(2000);
      expect(served).toBe(before);

      // b repairs in the other direction too: its own record, lost on its way to a.
      drop.deaf.delete(b.net.peerId);
      drop.deaf.add(a.net.peerId);
      const back = await publish(b, resultBody(5));
      await waitFor(() => a.received.some((x) => x.r.sig === back.sig), 10_000, 'a repaired by anti-entropy');
      expect(drop.connectionIds(b.net.peerId, a.net.peerId)).toEqual(conns.b);
    } finally {
      drop.restore();
    }
  }, 60_000);
});

describe('anti-entropy against a hostile peer', () => {
  it('a peer with ever-changing digests and a loop of digest requests gets a bounded number of syncs; malformed requests are cut off', async () => {
    const victim = await node({ extra: { antiEntropyMs: 1000 } });
    const P = protocols(PROGRAM);
    const attacker = await createLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() },
    });
    let syncs = 0;
    let n = 0;
    const fresh = (): string => sha256Hex(new TextEncoder().encode(`lie ${n++}`));
    // Every answer claims new records; every sync brings none.
    await attacker.handle(P.digest, async (stream) => {
      const lp = lpStream(stream);
      await lp.read();
      await lp.write(encodeDigestMessage(fresh()));
      await stream.close();
    });
    await attacker.handle(P.sync, async (stream) => {
      const lp = lpStream(stream);
      await lp.read();
      syncs++;
      await lp.write(new TextEncoder().encode('[]'));
      await stream.close();
    });
    const ask = async (body: Uint8Array): Promise<string> => {
      const stream = await attacker.dialProtocol(peerIdFromString(victim.net.peerId), P.digest);
      const lp = lpStream(stream, { maxDataLength: 1024 });
      await lp.write(body);
      const answer = new TextDecoder().decode((await lp.read()).subarray());
      await stream.close(); // a well-behaved client closes, or 2 open streams use up its inbound limit
      return answer;
    };
    try {
      await attacker.dial(multiaddr(victim.net.addresses()[0]!));
      await waitFor(() => victim.net.peers().some((p) => p.id === attacker.peerId.toString() && p.connected), 10_000, 'attacker connected');
      const t0 = Date.now();
      // 100 requests as fast as it can, each with a digest unlike the victim's.
      for (let i = 0; i < 100; i++) expect(parseDigestMessage(new TextEncoder().encode(await ask(encodeDigestMessage(fresh()))))).toMatch(/^[0-9a-f]{64}$/);
      await sleep(Math.max(0, 3000 - (Date.now() - t0)));
      const seconds = (Date.now() - t0) / 1000;
      // Catch-up on connect, then at most one round per half period (pushed) plus the periodic ones.
      expect(syncs).toBeGreaterThanOrEqual(2);
      expect(syncs).toBeLessThanOrEqual(2 + Math.ceil(seconds / 0.5) + Math.ceil(seconds / 0.5));
      expect(victim.received).toHaveLength(0);

      // Malformed or oversized requests: the stream is aborted, nothing is answered, the node lives on.
      for (const bad of ['{"digest":"nope"}', `{"digest":"${'a'.repeat(64)}","x":1}`, `{"digest":"${'a'.repeat(64)}","pad":"${'p'.repeat(400)}"}`]) {
        await expect(ask(new TextEncoder().encode(bad))).rejects.toThrow();
      }
      expect(await ask(encodeDigestMessage(fresh()))).toBe(JSON.stringify({ digest: summaryDigest(victim.net.known()) }));
    } finally {
      await attacker.stop();
    }
  }, 30_000);
});
