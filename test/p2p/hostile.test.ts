import '../../src/p2p/shim.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { gossipsub } from '@libp2p/gossipsub';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { lpStream } from '@libp2p/utils';
import { encodeRecord, protocols, signRecord, topics, type DraftRecord, type SignedRecord } from '../../src/p2p/index.js';
import { PROGRAM, cleanupDirs, publish, sha, resultBody, claimBody, startNode, waitFor, rawPeer } from './helpers.js';

afterAll(cleanupDirs);

describe('hostile gossip', () => {
  it('drops and counts malformed, unsigned, forged, oversized and foreign records; keeps working', async () => {
    const victim = await startNode();
    const honest = await startNode({ bootstrap: [victim.net.addresses()[0]!] });

    // The attacker speaks raw gossipsub (no validation of its own) with a key of its own.
    const key = await generateKeyPair('Ed25519');
    const attackerId = peerIdFromPrivateKey(key).toString();
    const attacker = await rawPeer({ gossip: true, privateKey: key });
    try {
      const T = topics(PROGRAM);
      attacker.services.pubsub.subscribe(T.result);
      await attacker.dial(multiaddr(victim.net.addresses()[0]!));
      await waitFor(() => attacker.services.pubsub.getSubscribers(T.result).some((p) => p.toString() === victim.net.peerId), 10_000, 'attacker sees victim subscribed');
      await waitFor(() => victim.net.peers().filter((p) => p.connected).length === 2, 10_000, 'victim has both peers');

      const honestRec = await publish(honest, resultBody(1));
      await waitFor(() => victim.received.length === 1, 10_000, 'honest record');

      const draft = (over: Record<string, unknown>): DraftRecord =>
        ({ ...resultBody(2), v: 1, program: PROGRAM, peer: attackerId, seq: 1, time: new Date().toISOString(), ...over }) as DraftRecord;
      const signedByAttacker = async (over: Record<string, unknown>): Promise<SignedRecord> => signRecord(draft(over), key);
      const bytes = (x: unknown): Uint8Array => new TextEncoder().encode(typeof x === 'string' ? x : JSON.stringify(x));

      const { sig: _s, ...unsigned } = await signedByAttacker({});
      const huge = await signedByAttacker({ reason: 'x'.repeat(300 * 1024) });
      const cases: [string, Uint8Array][] = [
        ['invalid-json', bytes('{"v":1,"type":"result",')],
        ['invalid-json', Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d)],
        ['unsigned', bytes(unsigned)],
        // Signed by the attacker but claiming the honest node as its origin.
        ['signature', encodeRecord(await signRecord(draft({ peer: honest.net.peerId }), key))],
        // The honest record with one field changed.
        ['signature', bytes({ ...honestRec, hypothesis: 'I did it' })],
        // The honest record replayed under the attacker's gossip envelope.
        ['signature', encodeRecord(honestRec)],
        ['oversize', encodeRecord(huge)],
        ['foreign-program', encodeRecord(await signedByAttacker({ program: 'ffff0000' }))],
        ['schema', encodeRecord(await signedByAttacker({ extra: 1 }))],
        ['schema', encodeRecord(await signedByAttacker({ type: 'gossip' }))],
      ];
      // A well-formed claim on the results topic is also rejected.
      const claim = await signRecord({ ...claimBody(3), v: 1, program: PROGRAM, peer: attackerId, seq: 2, time: new Date().toISOString() } as DraftRecord, key);
      cases.push(['schema', encodeRecord(claim)]);

      const expected: Record<string, number> = {};
      for (const [reason, data] of cases) {
        expected[reason] = (expected[reason] ?? 0) + 1;
        await attacker.services.pubsub.publish(T.result, data);
      }
      const total = cases.length;
      await waitFor(() => Object.values(victim.net.stats().dropped).reduce((a, b) => a + b, 0) >= total, 10_000, 'all drops counted');
      const { dropped } = victim.net.stats();
      expect(dropped).toEqual({
        'invalid-json': 0, schema: 0, signature: 0, oversize: 0, 'foreign-program': 0, unsigned: 0, ...expected,
      });
      // Rejections lower the attacker's score on the victim; the honest peer stays non-negative.
      // (gossipsub caches scores for a heartbeat, hence the wait.)
      await waitFor(() => (victim.net.stats().scores[attackerId] ?? 0) < -50, 5_000, 'attacker score drops');
      expect(victim.net.stats().scores[honest.net.peerId]).toBeGreaterThanOrEqual(0);
      // Nothing invalid was delivered or forwarded.
      expect(victim.received.length).toBe(1);
      expect(honest.received.length).toBe(0);

      // The victim still works: honest gossip arrives, and sync serves it.
      const next = await publish(honest, resultBody(4));
      await waitFor(() => victim.received.some((x) => x.r.sig === next.sig), 10_000, 'honest gossip after attack');
      expect(await victim.net.syncFrom(honest.net.peerId, {})).toBe(0);
    } finally {
      await attacker.stop();
      await victim.net.stop();
      await honest.net.stop();
    }
  });

  it('a lying or hanging sync/fetch responder cannot feed us bad records or hang us', async () => {
    const honest = await startNode();
    const good = await publish(honest, resultBody(1));

    const key = await generateKeyPair('Ed25519');
    const attacker = await createLibp2p({
      privateKey: key,
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() },
    });
    const P = protocols(PROGRAM);
    let syncRequests = 0;
    await attacker.handle(P.sync, async (stream) => {
      const lp = lpStream(stream);
      await lp.read();
      syncRequests++;
      // Page 1: a forgery, a tampered copy, garbage and one genuine record (relayed).
      // Page 2 (after has moved past the genuine one): the same page again, which must not loop forever.
      const page = [
        { ...good, val: 1 },
        { ...good, hypothesis: 'tampered' },
        'garbage',
        good,
      ];
      await lp.write(new TextEncoder().encode(JSON.stringify(page)));
      await stream.close();
    });
    await attacker.handle(P.fetch, async (stream) => {
      // Reads the request and never answers.
      const lp = lpStream(stream);
      await lp.read();
      await new Promise((r) => setTimeout(r, 5_000));
      stream.abort(new Error('late'));
    });
    try {
      const v2 = await startNode({ extra: { requestTimeoutMs: 1500 } });
      try {
        await attacker.dial(multiaddr(v2.net.addresses()[0]!));
        await waitFor(() => v2.net.peers().some((p) => p.id === attacker.peerId.toString() && p.connected), 10_000, 'attacker connected');
        // The attacker offers the sync protocol, so the victim already pulled from it on identify.
        await waitFor(() => v2.received.length === 1, 10_000, 'auto-sync from the attacker');
        expect(await v2.net.syncFrom(attacker.peerId.toString(), {})).toBe(0);
        expect(v2.received.map((x) => x.r.sig)).toEqual([good.sig]);
        expect(v2.received[0]!.from).toBe(attacker.peerId.toString());
        // Each syncFrom stops after the page that brought nothing new: 2 requests per call.
        expect(syncRequests).toBe(4);
        const { dropped } = v2.net.stats();
        expect(dropped.schema).toBeGreaterThanOrEqual(2);
        expect(dropped.signature).toBeGreaterThanOrEqual(1);

        const t0 = Date.now();
        expect(await v2.net.fetchObject(sha('anything'), [attacker.peerId.toString()])).toBeUndefined();
        expect(Date.now() - t0).toBeLessThan(4_000);
      } finally {
        await v2.net.stop();
      }
    } finally {
      await attacker.stop();
      await honest.net.stop();
    }
  });
});
