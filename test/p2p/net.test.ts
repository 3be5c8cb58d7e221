import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { verifyRecord } from '../../src/p2p/index.js';
import {
  PROGRAM, bestBody, claimBody, cleanupDirs, publish, resultBody, sha, startNode, tempDir, waitFor, type TestNode,
} from './helpers.js';

const running: TestNode[] = [];
async function node(opts: Parameters<typeof startNode>[0] = {}): Promise<TestNode> {
  const n = await startNode(opts);
  running.push(n);
  return n;
}
async function stopAll(): Promise<void> {
  await Promise.all(running.splice(0).map((n) => n.net.stop().catch(() => undefined)));
}
afterEach(stopAll);
afterAll(cleanupDirs);

/** Waits until `n` sees every other node subscribed to the results topic (mesh is ready). */
async function connected(nodes: TestNode[]): Promise<void> {
  for (const n of nodes) {
    await waitFor(() => n.net.peers().filter((p) => p.connected).length >= 1, 10_000, `${n.net.peerId} connected`);
  }
}

describe('p2p network', () => {
  it('gossips a record to every node, and fetches objects by hash', async () => {
    const a = await node();
    const boot = [a.net.addresses()[0]!];
    const b = await node({ bootstrap: boot });
    const c = await node({ bootstrap: boot });
    const d = await node({ bootstrap: [b.net.addresses()[0]!] }); // two hops from A
    await connected([a, b, c, d]);
    expect(a.net.addresses()[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${a.net.peerId}$`));

    // Gossip needs the subscriptions exchanged and d's mesh to reach a (through b).
    await new Promise((r) => setTimeout(r, 1500));
    const rec = await publish(a, resultBody(1));
    expect(rec.peer).toBe(a.net.peerId);
    expect(rec.seq).toBe(1);
    expect(rec.program).toBeDefined();
    expect(await verifyRecord(rec)).toBe(true);

    for (const n of [b, c, d]) {
      await waitFor(() => n.received.some((x) => x.r.seq === 1 && x.r.peer === a.net.peerId), 10_000, 'gossip');
      const got = n.received.find((x) => x.r.peer === a.net.peerId)!;
      expect(got.r).toEqual(rec);
      expect(got.from).toBe(a.net.peerId); // via gossip (a sync relay would name the relaying peer)
      expect(await verifyRecord(got.r)).toBe(true);
    }

    // Claims and bests travel on their own topics.
    const claim = await publish(b, claimBody(2));
    const best = await publish(c, bestBody(3));
    await waitFor(() => a.received.some((x) => x.r.sig === claim.sig) && a.received.some((x) => x.r.sig === best.sig), 10_000, 'claim+best');
    await waitFor(() => d.received.some((x) => x.r.sig === best.sig), 10_000, 'best at d');
    // Nothing arrives twice (gossip + sync on connect are deduplicated).
    for (const n of [a, b, c, d]) {
      const keys = n.received.map((x) => `${x.r.peer}:${x.r.seq}`);
      expect(new Set(keys).size).toBe(keys.length);
    }

    // fetch: B asks for A's object by hash.
    const trainPy = new TextEncoder().encode('import torch\nLR = 0.01\n');
    const h = a.source.addObject(trainPy);
    const got = await b.net.fetchObject(h, [a.net.peerId]);
    expect(got && Buffer.from(got).equals(Buffer.from(trainPy))).toBe(true);
    // Default peers: all connected ones.
    expect(await d.net.fetchObject(h)).toBeUndefined(); // d is not connected to a and b lacks it
    expect(await b.net.fetchObject(sha('nobody has this'))).toBeUndefined();

    // A liar: c serves bytes under a hash they do not match; b rejects them and moves on to a.
    const lie = sha('the real thing');
    c.source.objects.set(lie, new TextEncoder().encode('something else'));
    expect(await b.net.fetchObject(lie, [c.net.peerId])).toBeUndefined();
    a.source.addObject(new TextEncoder().encode('the real thing'));
    const real = await b.net.fetchObject(lie, [c.net.peerId, a.net.peerId]);
    expect(real && new TextDecoder().decode(real)).toBe('the real thing');
  });

  it('late joiners and restarted nodes catch up through sync; identity persists', async () => {
    const a = await node();
    const b = await node({ bootstrap: [a.net.addresses()[0]!] });
    await connected([a, b]);
    const published = [];
    for (let i = 1; i <= 5; i++) published.push(await publish(a, resultBody(i)));
    published.push(await publish(a, claimBody(6)));
    await waitFor(() => b.received.length === 6, 10_000, 'b has 6');

    // Late joiner, bootstrapping from b only: it gets A's records relayed by b, still verified.
    const late = await node({ bootstrap: [b.net.addresses()[0]!] });
    await waitFor(() => late.received.length === 6, 10_000, 'late joiner catch-up');
    expect(late.received.every((x) => x.from === b.net.peerId)).toBe(true);
    expect(late.received.map((x) => x.r.seq).sort()).toEqual([1, 2, 3, 4, 5, 6]);

    // Restart b with the same identity and the same store, while a publishes more.
    const bDir = b.dir;
    const bId = b.net.peerId;
    const bSource = b.source;
    await b.net.stop();
    running.splice(running.indexOf(b), 1);
    const keyFile = join(bDir, 'identity.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const keyBytes = readFileSync(keyFile);
    published.push(await publish(a, resultBody(7)));
    published.push(await publish(a, bestBody(7)));

    const b2 = await node({ dir: bDir, source: bSource, bootstrap: [a.net.addresses()[0]!] });
    expect(b2.net.peerId).toBe(bId);
    expect(readFileSync(keyFile).equals(keyBytes)).toBe(true);
    // Only the two it missed arrive: what the store already holds is not re-emitted.
    await waitFor(() => b2.received.length === 2, 10_000, 'restart catch-up');
    expect(b2.received.map((x) => x.r.seq).sort()).toEqual([7, 8]);
    expect(bSource.all().length).toBe(8);

    // A restarted publisher keeps counting where it left off.
    const aDir = a.dir;
    const aId = a.net.peerId;
    await a.net.stop();
    running.splice(running.indexOf(a), 1);
    const a2 = await node({ dir: aDir, source: a.source, bootstrap: [b2.net.addresses()[0]!] });
    expect(a2.net.peerId).toBe(aId);
    await waitFor(() => a2.net.peers().some((p) => p.connected), 10_000, 'a2 connected');
    await new Promise((r) => setTimeout(r, 1200));
    const next = await publish(a2, resultBody(9));
    expect(next.seq).toBe(9);
    await waitFor(() => b2.received.some((x) => x.r.seq === 9), 10_000, 'seq 9 at b2');

    // An explicit syncFrom with an empty `known` re-pulls everything but emits nothing already seen.
    expect(await b2.net.syncFrom(a2.net.peerId, {})).toBe(0);
    expect(b2.received.length).toBe(3);
  });

  it('a node that lost its state gets its own records back and never reuses a seq', async () => {
    const a = await node();
    const b = await node({ bootstrap: [a.net.addresses()[0]!] });
    await connected([a, b]);
    for (let i = 1; i <= 3; i++) await publish(a, resultBody(i));
    await waitFor(() => b.received.length === 3, 10_000, 'b has 3');
    await a.net.stop();
    running.splice(running.indexOf(a), 1);
    rmSync(join(a.dir, 'identity.key.seq'));
    const a2 = await node({ dir: a.dir, bootstrap: [b.net.addresses()[0]!] }); // fresh, empty store
    await waitFor(() => a2.received.length === 3, 10_000, 'own records back');
    expect((await publish(a2, bestBody(4))).seq).toBe(4);
  });

  it('reconnects to a bootstrap peer that comes back', async () => {
    const dir = tempDir();
    const a = await node({ dir });
    const addr = a.net.addresses()[0]!;
    const b = await node({ bootstrap: [addr] });
    await connected([a, b]);
    await a.net.stop();
    running.splice(running.indexOf(a), 1);
    await waitFor(() => !b.net.peers().some((p) => p.connected), 10_000, 'b sees a gone');
    // Back on the same port with the same identity.
    const port = addr.split('/')[4]!;
    const { createSwarmNet } = await import('../../src/p2p/index.js');
    const a2 = await createSwarmNet({
      identityFile: join(dir, 'identity.key'), programId: PROGRAM,
      listen: [`/ip4/127.0.0.1/tcp/${port}`], source: a.source,
    });
    try {
      await waitFor(() => b.net.peers().some((p) => p.id === a2.peerId && p.connected), 10_000, 'redial');
    } finally {
      await a2.stop();
    }
  });
});
