import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { preSharedKey } from '@libp2p/pnet';
import { multiaddr } from '@multiformats/multiaddr';
import { generateSwarmKey, parseSwarmKey, SwarmKeyError } from '../../src/p2p/index.js';
import { SwarmError } from '../../src/core/errors.js';
import { cleanupDirs, publish, resultBody, startNode, waitFor, type TestNode } from './helpers.js';

const running: TestNode[] = [];
const raw: Libp2p[] = [];
async function node(opts: Parameters<typeof startNode>[0] = {}): Promise<TestNode> {
  const n = await startNode(opts);
  running.push(n);
  return n;
}
afterEach(async () => {
  await Promise.all([
    ...running.splice(0).map((n) => n.net.stop().catch(() => undefined)),
    ...raw.splice(0).map((n) => Promise.resolve().then(() => n.stop()).catch(() => undefined)),
  ]);
});
afterAll(cleanupDirs);

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const HEX = 'dffb7e3135399a8b1612b2aaca1c36a3a8ac2cd0cca51ceeb2ced87d308cac6d';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const connectedTo = (n: TestNode, peer: string): boolean => n.net.peers().some((p) => p.id === peer && p.connected);

/** A bare libp2p node (no swarm protocols) that dials with or without a swarm key. */
async function bareNode(psk?: Uint8Array): Promise<Libp2p> {
  const n = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    ...(psk ? { connectionProtector: preSharedKey({ psk }) } : {}),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  });
  raw.push(n);
  return n;
}

describe('swarm key files', () => {
  it('generateSwarmKey output round-trips through parseSwarmKey', () => {
    const a = generateSwarmKey();
    const b = generateSwarmKey();
    expect(dec(a)).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
    expect(dec(a)).not.toBe(dec(b));
    expect(parseSwarmKey(a, 'swarm.key')).toEqual(a);
  });

  it('accepts the standard format with CRLF, upper-case hex and no trailing newline, canonicalised', () => {
    const canonical = `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`;
    expect(dec(parseSwarmKey(enc(`/key/swarm/psk/1.0.0/\n/base16/\n${HEX}`), 'k'))).toBe(canonical);
    expect(dec(parseSwarmKey(enc(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${HEX.toUpperCase()}\r\n\r\n`), 'k'))).toBe(canonical);
  });

  it('rejects garbage with a message naming the file and what is wrong, without echoing the key', () => {
    const cases: [Uint8Array, RegExp][] = [
      [enc(''), /empty/],
      [enc('hello world'), /the first line must be \/key\/swarm\/psk\/1\.0\.0\//],
      [enc(`${HEX}\n`), /the first line must be/],
      [enc(`/key/swarm/psk/1.0.0/\n/base64/\n${HEX}`), /the second line must be \/base16\/ \(other encodings/],
      [enc(`/key/swarm/psk/1.0.0/\n${HEX}`), /the second line must be \/base16\//],
      [enc('/key/swarm/psk/1.0.0/\n/base16/\n'), /the third line \(the key\) is missing/],
      [enc(`/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(0, 62)}zz`), /hex digits only/],
      [enc(`/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(0, 40)}`), /must be 64 hex digits, found 40/],
      [enc(`/key/swarm/psk/1.0.0/\n/base16/\n${HEX}00`), /must be 64 hex digits, found 66/],
      [enc(`/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\nextra`), /unexpected lines after the key/],
      [Uint8Array.of(0xff, 0xfe, 0x00, 0x80), /not text/],
      [new Uint8Array(1 << 20), /1048576 bytes/],
    ];
    for (const [bytes, why] of cases) {
      let err: unknown;
      try {
        parseSwarmKey(bytes, '/etc/swarm/swarm.key');
      } catch (e) {
        err = e;
      }
      expect(err, why.source).toBeInstanceOf(SwarmKeyError);
      expect(err).toBeInstanceOf(SwarmError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^\/etc\/swarm\/swarm\.key: not a swarm key: /);
      expect(msg).toMatch(why);
      expect(msg).not.toContain(HEX.slice(0, 40));
      expect((err as SwarmKeyError).hint).toMatch(/same file/);
    }
  });

  it('createSwarmNet refuses a malformed key before it listens', async () => {
    await expect(startNode({ extra: { swarmKey: enc('not a key') } })).rejects.toThrow(/not a swarm key: the first line/);
  });
});

describe('private swarm', () => {
  it('nodes with the same key connect, gossip and sync; others cannot connect and nobody crashes', async () => {
    const key = generateSwarmKey();
    const a = await node({ extra: { swarmKey: key } });
    const aAddr = a.net.addresses()[0]!;
    const early = await publish(a, resultBody(1)); // arrives at b through sync on connect

    const b = await node({ bootstrap: [aAddr], extra: { swarmKey: key } });
    await waitFor(() => connectedTo(b, a.net.peerId) && connectedTo(a, b.net.peerId), 10_000, 'a<->b');
    await waitFor(() => b.received.some((x) => x.r.sig === early.sig), 10_000, 'sync of #1');
    await sleep(1200); // subscriptions exchanged, mesh formed
    const live = await publish(a, resultBody(2));
    await waitFor(() => b.received.some((x) => x.r.sig === live.sig), 10_000, 'gossip of #2');
    expect(b.received.find((x) => x.r.sig === live.sig)!.from).toBe(a.net.peerId);

    // Outsiders: another key, and no key, both bootstrapping from a (redialled every 500 ms).
    const other = await node({ bootstrap: [aAddr], extra: { swarmKey: generateSwarmKey(), requestTimeoutMs: 5000 } });
    const open = await node({ bootstrap: [aAddr], extra: { requestTimeoutMs: 5000 } });
    // ...and a keyed node dialling out to a node without the key.
    const inward = await node({ bootstrap: [open.net.addresses()[0]!], extra: { swarmKey: key } });

    // Bare dials fail outright.
    const bare = await bareNode();
    await expect(bare.dial(multiaddr(aAddr), { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    const wrong = await bareNode(generateSwarmKey());
    await expect(wrong.dial(multiaddr(aAddr), { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    const right = await bareNode(key);
    await expect(right.dial(multiaddr(aAddr), { signal: AbortSignal.timeout(5000) })).resolves.toBeDefined();

    await sleep(3000); // several redial rounds
    const third = await publish(a, resultBody(3));
    await waitFor(() => b.received.some((x) => x.r.sig === third.sig), 10_000, 'gossip of #3 after the intruders');
    await sleep(500);

    for (const outsider of [other, open]) {
      expect(connectedTo(outsider, a.net.peerId)).toBe(false);
      expect(connectedTo(a, outsider.net.peerId)).toBe(false);
      expect(outsider.received).toEqual([]);
      await expect(outsider.net.syncFrom(a.net.peerId)).rejects.toThrow();
    }
    expect(connectedTo(inward, open.net.peerId)).toBe(false);
    expect(connectedTo(open, inward.net.peerId)).toBe(false);
    expect(inward.received).toEqual([]);
    // Only b (and the bare node holding the key) ever connected to a.
    expect(a.net.peers().filter((p) => p.connected).map((p) => p.id).sort())
      .toEqual([b.net.peerId, right.peerId.toString()].sort());

    // Everybody is still alive: the outsiders' own networks still work.
    const o = await publish(open, resultBody(4));
    expect(o.seq).toBe(1);
    const bSeen = b.received.length;
    const k = await publish(b, resultBody(5));
    await waitFor(() => a.received.some((x) => x.r.sig === k.sig), 10_000, 'b to a');
    expect(b.received.length).toBe(bSeen);
  });
});
