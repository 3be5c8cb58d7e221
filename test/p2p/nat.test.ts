/**
 * Across NATs, on a small internet built with network namespaces (test/helpers/netns.ts):
 *
 *   inet (11.0.0.0/24 bridge) ── relay R 11.0.0.2 (--relay-server, the bootstrap node)
 *        ├── D 11.0.0.4 (public; knows only R)
 *        ├── home a: router 11.0.0.21 (masquerade) ── A 192.168.21.2
 *        ├── home b: router 11.0.0.22 (masquerade) ── B 192.168.22.2
 *        └── home c: router 11.0.0.23 (masquerade + TCP 4001 forwarded) ── C 192.168.23.2:4001
 *
 * Every node is a real SwarmNet in its own process (dist/, so `npm run build` first).
 * Figures (ms) go to $SWARM_NAT_FIGURES when set (scripts/bench-nat.mjs).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { reachOptions } from '../../src/cli/join.js';
import { dhtProtocol, programKey, RELAY_DEFAULTS } from '../../src/p2p/index.js';
import { NetLab, netnsUnavailable } from '../helpers/netns.js';
import { Box, until } from '../helpers/natbox.js';

const PROGRAM = 'abc123def4567890';
/** The relay's allowance per relayed connection in this test (the default is 4 MiB). */
const RELAY_BYTES = 1024 * 1024;
const unavailable = netnsUnavailable();
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'swarm-nat-'));
  dirs.push(d);
  return d;
};
/** The lab of the running test; removed in afterAll too, should the test itself be cut off by its timeout. */
let lab: NetLab | null = null;
afterAll(async () => {
  await lab?.destroy();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

if (unavailable) console.warn(`nat.test.ts skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('boxes behind NATs', () => {
  it('exchange through a relay, go direct where the NAT allows, are found by discovery, and survive the relay restarting', async () => {
    const net = new NetLab();
    lab = net;
    const boxes: Box[] = [];
    const figures: Record<string, number> = {};
    try {
      net.init();
      const relayIp = net.internetAddress(2);
      net.home('a', 21);
      net.home('b', 22);
      const c = net.home('c', 23, 4001);
      net.publicBox('d', 4);

      const relay = new Box(net, 'inet', 'relay', {
        dir: tempDir(), program: PROGRAM, listen: ['/ip4/0.0.0.0/tcp/4001'], announce: [`/ip4/${relayIp}/tcp/4001`],
        bootstrap: [], reach: { relayServer: { bytes: RELAY_BYTES } },
      });
      boxes.push(relay);
      await relay.start();
      const bootstrap = [`/ip4/${relayIp}/tcp/4001/p2p/${relay.peerId}`];
      const home = (name: string, extra: Partial<Box['config']> = {}): Box =>
        new Box(net, name, name.toUpperCase(), { dir: tempDir(), program: PROGRAM, listen: ['/ip4/0.0.0.0/tcp/0'], bootstrap, reach: {}, discoveryMs: 2000, ...extra });
      const A = home('a');
      const B = home('b');
      boxes.push(A, B);
      const t0 = Date.now();
      await Promise.all([A.start(), B.start()]);

      // A and B sit behind plain masquerading NATs: they reserve a slot on the relay and meet only through it.
      const circuit = (x: Box) => `/p2p/${relay.peerId}/p2p-circuit/p2p/${x.peerId}`;
      await until('A and B hold relay reservations', async () =>
        (await A.status()).addresses.some((a) => a.endsWith(circuit(A))) && (await B.status()).addresses.some((a) => a.endsWith(circuit(B))), 120_000, boxes);
      await until('A and B connected (through the relay)', async () => (await A.peer(B.peerId)) !== undefined && (await B.peer(A.peerId)) !== undefined, 120_000, boxes);
      figures.relayedConnectMs = Date.now() - t0;
      expect((await A.peer(B.peerId))?.relayed).toBe(true);

      const sent = await A.call<{ seq: number; at: number }>('publish', { n: 1 });
      await until('B holds A #1', () => B.records.some((r) => r.peer === A.peerId && r.seq === sent.seq), 30_000, boxes);
      figures.relayedRecordMs = B.records.find((r) => r.peer === A.peerId && r.seq === sent.seq)!.at - sent.at;
      const { hash } = await A.call<{ hash: string }>('object', { text: 'LR = 0.02  # a train.py from behind NAT 1\n' });
      const fetched = await B.call<{ text: string | null }>('fetch', { hash, peer: A.peerId });
      expect(fetched.text).toBe('LR = 0.02  # a train.py from behind NAT 1\n');
      expect((await B.peer(A.peerId))?.relayed).toBe(true); // the blob came through the relay
      // A blob larger than the relay still allows is refused up front, and the circuit survives.
      const { hash: hugeHash } = await A.call<{ hash: string }>('object', { text: 'y'.repeat(RELAY_BYTES + 1) });
      expect((await B.call<{ text: string | null }>('fetch', { hash: hugeHash, peer: A.peerId })).text).toBeNull();
      expect((await B.peer(A.peerId))?.relayed).toBe(true);

      // C's router forwards its listen port. C knows only A's relayed address (no DHT here, so
      // the only path is C → relay → A); A, the inbound side, upgrades it with DCUtR by dialling
      // the public address C announced.
      const circuitA = (await A.status()).addresses.find((a) => a.includes('/p2p-circuit/'))!;
      const C = home('c', {
        listen: ['/ip4/0.0.0.0/tcp/4001'], bootstrap: [...bootstrap, circuitA], reach: { forwarded: [`/ip4/${c.wan}/tcp/4001`], dht: false },
      });
      boxes.push(C);
      const tc = Date.now();
      await C.start();
      await until('A and C directly connected', async () => (await A.peer(C.peerId))?.relayed === false, 120_000, boxes);
      figures.directConnectMs = Date.now() - tc;
      const fromC = await C.call<{ seq: number; at: number }>('publish', { n: 2 });
      await until('A holds C #1', () => A.records.some((r) => r.peer === C.peerId && r.seq === fromC.seq), 30_000, boxes);
      figures.directRecordMs = A.records.find((r) => r.peer === C.peerId && r.seq === fromC.seq)!.at - fromC.at;
      // On the direct path the relay's allowance no longer applies.
      expect((await C.call<{ text: string | null }>('fetch', { hash: hugeHash, peer: A.peerId })).text?.length).toBe(RELAY_BYTES + 1);
      // Two plain masquerading NATs never allow a direct TCP path (docs/internet.md): A–B stays relayed.
      expect((await A.peer(B.peerId))?.relayed).toBe(true);

      // D knows only the bootstrap address; it finds A and B on the program's DHT and syncs all three.
      await B.call('publish', { n: 3 });
      const D = new Box(net, 'd', 'D', { dir: tempDir(), program: PROGRAM, listen: ['/ip4/0.0.0.0/tcp/0'], bootstrap, reach: {}, discoveryMs: 2000 });
      boxes.push(D);
      await D.start();
      await until('D found A, B and C', async () => {
        const s = await D.status();
        return [A, B].every((x) => s.peers.some((p) => p.id === x.peerId && p.connected));
      }, 120_000, boxes);
      await until('D synced their records', async () => {
        const k = (await D.status()).known;
        return (k[A.peerId] ?? 0) >= 1 && (k[B.peerId] ?? 0) >= 1 && (k[C.peerId] ?? 0) >= 1;
      }, 30_000, boxes);

      // The relay stops: A and B lose their only path but keep what they have.
      const heldA = (await A.status()).records;
      const heldB = (await B.status()).records;
      await relay.stop();
      await until('A and B apart', async () => (await A.peer(B.peerId)) === undefined, 30_000, boxes);
      expect((await A.status()).records).toBe(heldA);
      expect((await B.status()).records).toBe(heldB);
      const during = await A.call<{ seq: number }>('publish', { n: 4 });

      // The relay returns (same identity and address): they reserve again, find each other, catch up.
      await relay.start();
      const back = Date.now();
      await until('A and B together again', async () => (await A.peer(B.peerId)) !== undefined, 90_000, boxes);
      await until('B holds what A published while apart', () => B.records.some((r) => r.peer === A.peerId && r.seq === during.seq), 30_000, boxes);
      figures.reconnectMs = Date.now() - back;

      if (process.env.SWARM_NAT_FIGURES) writeFileSync(process.env.SWARM_NAT_FIGURES, JSON.stringify(figures));
      console.log(`nat figures (ms): ${JSON.stringify(figures)}`);
    } finally {
      await net.destroy();
    }
  }, 600_000);
});

describe('reach settings', () => {
  it('maps the join flags onto the relay, DHT and connection settings', () => {
    const flags = { relayServer: true, relaySlots: '4', relayBytes: '65536', relayReserve: 'off', forwarded: '/ip4/11.0.0.9/tcp/4001', dht: false, maxConnections: '20' };
    expect(reachOptions(loadConfig({ flags, env: {} }))).toEqual({
      relayServer: { slots: 4, durationSeconds: RELAY_DEFAULTS.durationSeconds, bytes: 65536 },
      relayReserve: false, upnp: false, dht: false, forwarded: ['/ip4/11.0.0.9/tcp/4001'], maxConnections: 20,
    });
    // Defaults: no relay server, reservation left to `auto`, DHT on, UPnP off.
    expect(reachOptions(loadConfig({ flags: {}, env: {} }))).toEqual({ relayServer: false, upnp: false, dht: true, forwarded: [], maxConnections: 128 });
    expect(() => loadConfig({ flags: { relayReserve: 'sometimes' }, env: {} })).toThrow(/relay-reserve/);
    expect(() => loadConfig({ flags: { relaySlots: '0' }, env: {} })).toThrow(/relay-slots/);
  });

  it('scopes discovery to the research program', () => {
    expect(dhtProtocol(PROGRAM)).toBe(`/swarm/1/${PROGRAM}/kad/1.0.0`);
    // Known answer (protocol.md §2.3): CIDv1 raw of sha256("swarm/1/<program>"), base32.
    expect(programKey(PROGRAM).toString()).toBe('bafkreiercnevkpnztjkrdswlk3u4rnhic5tc3sutpp7pjjn4dzehrvo2ku');
    expect(programKey(PROGRAM).toString()).not.toBe(programKey('abc123def4567891').toString());
    expect(programKey(PROGRAM).code).toBe(0x55); // raw
  });
});
