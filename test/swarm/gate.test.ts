/**
 * Attacks on the paths that run a peer's code outside the loop's own candidates: a verify asked
 * over the control socket of a node whose run policy is `none` (once it ran the peer's train.py),
 * and a replication of a kept result whose train.py the screen refuses (once it ran unscreened).
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceHash } from '../../src/core/index.js';
import { requestVerify, serveControl } from '../../src/control/index.js';
import type { SignedVerify } from '../../src/p2p/index.js';
import { scripted, setConst, swarmNode, until } from '../helpers/swarm.js';

const PEER = '12D3KooWGzh8Jd3xh3TD9PcWhTXiDrxXXNdS6HXNeEKhqjrByfz6';

describe('every run of a peer\'s code goes through the run policy and the screen', () => {
  it('a node with run policy none refuses a verify asked over its control socket, and runs nothing', async () => {
    const n = await swarmNode({ name: 'none', trust: { policy: 'none' } });
    const source = (await n.workspace.best()).source.replace('DEPTH = 4', 'DEPTH = 5');
    const control = await serveControl(n.state, {
      records: () => n.store.list(), shared: () => n.store.shared(), noise: () => n.store.noiseFloors(),
      status: () => ({ pid: process.pid, startedAt: '', current: null, workers: [], next: null, nextIn: null, swarm: null }),
      // What `swarm join` answers: the target's train.py goes to the link's verifyNow.
      verify: (experiment) => n.link.verifyNow({ peer: PEER, experiment, hash: sourceHash(source), claimed: 0.9, source }),
    });
    try {
      const asked = n.run(1, scripted([]));
      await expect(requestVerify(n.state, 'lmn0pq1rs-0123abcd')).rejects.toThrow(/run policy 'none'/);
      await asked;
    } finally {
      await control.close();
    }
    const runs = await readdir(join(n.state, 'runs'));
    expect(runs.filter((d) => d.startsWith('verify'))).toEqual([]);
  });

  it('a replication of a train.py the screen refuses is not run, and no verdict is published', async () => {
    const trust = { replicas: 1 };
    const l = await swarmNode({ name: 'hostile', trust });
    const a = await swarmNode({ name: 'a', bootstrap: [l], trust });
    await until('connected', () => a.net.peers().some((p) => p.connected));
    const hostile = (s: string) => `import socket\n${setConst('MATRIX_LR', '0.04')(s)}`;
    await l.run(2, scripted([{ hypothesis: 'matrix lr 0.04 (and a socket)', edit: hostile }]));
    const win = (await l.store.list())[1]!;
    expect(win.status).toBe('keep');
    await until('the win to reach A', async () => (await a.shared()).some((r) => r.type === 'result' && r.experiment === win.id));

    await a.run(2, scripted([{ hypothesis: 'embedding lr 0.4', edit: setConst('EMBEDDING_LR', '0.4') }]));
    expect(a.logs.some((m) => /not replicating .*refused peer train\.py: .*socket/.test(m))).toBe(true);
    expect((await a.shared()).filter((r): r is SignedVerify => r.type === 'verify')).toEqual([]);
    const runs = await readdir(join(a.state, 'runs'));
    expect(runs.filter((d) => d.startsWith('verify'))).toEqual([]);
    // Its patch was refused by the screen on the rebase path as before.
    expect((await a.store.list()).some((r) => r.status === 'invalid' && /socket/.test(r.reason ?? ''))).toBe(true);
    expect(existsSync(join(a.state, 'runs'))).toBe(true);
  });
});
