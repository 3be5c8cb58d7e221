// One benchmark swarm node in its own Node process (as `swarm join` runs one per box), driven over IPC by its
// parent: {type:'start'} runs the loop, {type:'stop'} ends it, {type:'dump'} reports what the node holds,
// {type:'exit'} closes it. It reports {type:'rss'} samples (this process's resident memory) every `sampleMs`.
import { mutateProposer } from '../../dist/agent/index.js';
import { benchNode } from './nodes.mjs';

const opts = JSON.parse(process.argv[2]);
const node = await benchNode(opts);
const stop = new AbortController();
let loop = null;
let runs = 0;
const send = (m) => process.send?.(m);
const timer = setInterval(() => send({ type: 'rss', t: Date.now(), rss: process.memoryUsage().rss, runs }), opts.sampleMs ?? 10_000);

process.on('message', async (m) => {
  try {
    if (m.type === 'start') {
      loop = node.run({
        proposer: mutateProposer({ seed: opts.seed }), maxExperiments: null, signal: stop.signal,
        onEvent: (e) => { if (e.type === 'finish') runs += 1; },
      });
      loop.catch((err) => send({ type: 'error', message: String(err?.stack ?? err) }));
    } else if (m.type === 'stop') {
      stop.abort();
      await loop?.catch(() => {});
      send({ type: 'stopped' });
    } else if (m.type === 'dump') {
      await node.link.settled();
      const shared = await node.link.records();
      const own = await node.store.list();
      send({
        type: 'dump', peerId: node.net.peerId, records: shared.map((r) => `${r.peer}/${r.seq}`),
        // A keep taken from a peer's confirmed measurement (measuredBy) is no run of this node's.
        runs: own.filter((r) => ['keep', 'discard', 'crash'].includes(r.status) && r.origin.kind !== 'baseline' && !r.measuredBy).map((r) => r.hash),
        taken: own.filter((r) => r.measuredBy).length,
        statuses: own.reduce((s, r) => ({ ...s, [r.status]: (s[r.status] ?? 0) + 1 }), {}),
      });
    } else if (m.type === 'exit') {
      clearInterval(timer);
      await node.close();
      process.exit(0);
    }
  } catch (err) {
    send({ type: 'error', message: String(err?.stack ?? err) });
  }
});
send({ type: 'ready', address: node.address(), peerId: node.net.peerId });
