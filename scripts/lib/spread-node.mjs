// One node of the spread benchmark, in its own process as `swarm join` runs it: the real SwarmNet, its
// own LevelDB store and git workspace, and the real swarm link storing what arrives. The parent
// (scripts/bench-spread.mjs) drives it over IPC and reads its memory from /proc.
// Mode `bare` is the baseline instead: an idle libp2p node with the same transport and gossipsub, nothing else.
import '../../dist/p2p/shim.js';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkRecord, createSwarmNet, encodeRecord } from '../../dist/p2p/index.js';
import { openStore } from '../../dist/store/index.js';
import { swarmLink } from '../../dist/swarm/index.js';
import { openWorkspace } from '../../dist/workspace/index.js';
import { PROGRAM, resultBody } from './spread-records.mjs';

const root = resolve(import.meta.dirname, '..', '..');
const now = () => performance.timeOrigin + performance.now();
const send = (msg) => process.send?.(msg);
const warnings = [];
const log = { info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };

/** The baseline: an idle libp2p node, same modules as the swarm's, without store, link or records. */
async function bare() {
  const { createLibp2p } = await import('libp2p');
  const { tcp } = await import('@libp2p/tcp');
  const { noise } = await import('@chainsafe/libp2p-noise');
  const { yamux } = await import('@chainsafe/libp2p-yamux');
  const { identify } = await import('@libp2p/identify');
  const { gossipsub } = await import('@libp2p/gossipsub');
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()],
    streamMuxers: [yamux()], services: { identify: identify(), pubsub: gossipsub() },
  });
  send({ ev: 'ready', peerId: node.peerId.toString(), addr: node.getMultiaddrs()[0].toString(), at: now() });
  return { stop: () => node.stop() };
}

/** A swarm node; `state` may hold a store seeded before start. */
async function swarm(init) {
  const store = await openStore(join(init.state, 'db'));
  const baseline = await readFile(join(root, 'test', 'fixtures', 'stub-trainer', 'train.py'), 'utf8');
  const workspace = await openWorkspace({ dir: join(init.state, 'ws.git'), baseline });
  const link = swarmLink({ store, workspace, log, hardwareClass: 'NVIDIA H100 80GB HBM3', claimSeconds: 600, threshold: 0, refusePeerCode: null });
  const started = now();
  const net = await createSwarmNet({
    identityFile: join(init.state, 'identity.key'), programId: PROGRAM, listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: init.bootstrap, source: link.source, log,
  });
  link.attach(net);
  /** When each record that arrived was in this node's store: `origin/seq` → epoch ms. */
  const held = new Map();
  let target = init.target ?? Infinity;
  /** When each record arrived from the network (before the store write). */
  const received = new Map();
  net.on('record', (r) => {
    received.set(`${r.peer}/${r.seq}`, now());
    // The link's listener came first, so settled() includes this record's write to the store.
    void link.settled().then(() => {
      held.set(`${r.peer}/${r.seq}`, now());
      if (held.size >= target) {
        target = Infinity;
        send({ ev: 'caughtUp', at: now(), count: held.size, memory: process.memoryUsage() });
      }
    });
  });
  send({ ev: 'ready', peerId: net.peerId, addr: net.addresses()[0], at: started });
  return {
    async publish(msg) {
      const at = now();
      // As the link publishes: sign and gossip, then keep it in the own store.
      const signed = await net.publish(resultBody(msg.n, msg.salt));
      await store.putShared(signed);
      send({ ev: 'published', id: msg.id, key: `${signed.peer}/${signed.seq}`, at, bytes: encodeRecord(signed).byteLength });
    },
    status() {
      const { dropped, scores } = net.stats();
      const s = Object.values(scores);
      send({ ev: 'status', held: held.size, peers: net.peers().filter((p) => p.connected).length, minScore: s.length ? Math.min(...s) : null, dropped, warnings: warnings.slice(-5), warningCount: warnings.length });
    },
    holds(msg) {
      send({ ev: 'holds', holds: msg.keys.map((k) => held.get(k) ?? null), received: msg.keys.map((k) => received.get(k) ?? null) });
    },
    /** The late joiner's baseline: the same records read from the local store, then checked as sync checks them. */
    async read() {
      const t0 = now();
      const records = await store.shared();
      const t1 = now();
      for (const r of records) {
        const v = await checkRecord(r, PROGRAM);
        if (!v.ok) throw new Error(`stored record fails its check: ${v.error}`);
      }
      send({ ev: 'read', count: records.length, readMs: t1 - t0, checkMs: now() - t1 });
    },
    async stop() {
      await net.stop();
      await link.settled();
      await store.close();
    },
  };
}

let node = null;
process.on('message', (msg) => {
  void (async () => {
    try {
      if (msg.cmd === 'start') node = msg.mode === 'bare' ? await bare() : await swarm(msg);
      else if (msg.cmd === 'stop') {
        await node?.stop();
        send({ ev: 'stopped' });
        process.disconnect();
      } else await node[msg.cmd](msg);
    } catch (err) {
      send({ ev: 'error', cmd: msg.cmd, error: err instanceof Error ? err.stack : String(err) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
