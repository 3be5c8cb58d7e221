import '../../src/p2p/shim.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, afterEach } from 'vitest';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { gossipsub } from '@libp2p/gossipsub';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import {
  createSwarmNet, type P2PInit, type RecordSource, type SignedRecord, type SwarmNet, type ResultBody, type ClaimBody, type BestBody, type NoiseBody, type VerifyBody,
} from '../../src/p2p/index.js';

export const PROGRAM = 'abc123def4567890';

export const sha = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

/** Experiment id number n, in the shape newId() gives (the wire accepts no other). */
export const expId = (n: number): string => `${n.toString(36).padStart(9, '0')}-${(n >>> 0).toString(16).padStart(8, '0')}`;

/** An in-memory store: what a real node keeps in LevelDB. */
export class MemorySource implements RecordSource {
  readonly byOrigin = new Map<string, Map<number, SignedRecord>>();
  readonly objects = new Map<string, Uint8Array>();

  add(r: SignedRecord): void {
    let m = this.byOrigin.get(r.peer);
    if (!m) {
      m = new Map();
      this.byOrigin.set(r.peer, m);
    }
    m.set(r.seq, r);
  }
  addObject(bytes: Uint8Array): string {
    const h = sha(bytes);
    this.objects.set(h, bytes);
    return h;
  }
  all(): SignedRecord[] {
    return [...this.byOrigin.values()].flatMap((m) => [...m.values()]);
  }
  async records(after: Record<string, number>, limit: number): Promise<SignedRecord[]> {
    const out: SignedRecord[] = [];
    for (const [peer, m] of [...this.byOrigin.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const seq of [...m.keys()].sort((a, b) => a - b)) {
        if (seq > (after[peer] ?? 0)) out.push(m.get(seq)!);
      }
    }
    return out.slice(0, limit);
  }
  async object(hash: string): Promise<Uint8Array | undefined> {
    return this.objects.get(hash);
  }
  async known(): Promise<Record<string, number>> {
    const k: Record<string, number> = {};
    for (const [peer, m] of this.byOrigin) {
      let s = 0;
      while (m.has(s + 1)) s++;
      if (s > 0) k[peer] = s;
    }
    return k;
  }
}

export interface TestNode {
  net: SwarmNet;
  source: MemorySource;
  received: { r: SignedRecord; from: string }[];
  dir: string;
}

const dirs: string[] = [];
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'swarm-p2p-'));
  dirs.push(d);
  return d;
}
export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Starts a node on 127.0.0.1 that stores everything it receives and everything it publishes. */
export async function startNode(opts: { dir?: string; bootstrap?: string[]; source?: MemorySource; program?: string; extra?: Partial<P2PInit> } = {}): Promise<TestNode> {
  const dir = opts.dir ?? tempDir();
  const source = opts.source ?? new MemorySource();
  const net = await createSwarmNet({
    identityFile: join(dir, 'identity.key'),
    programId: opts.program ?? PROGRAM,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: opts.bootstrap ?? [],
    source,
    redialMs: 500,
    ...opts.extra,
    ...(process.env.SWARM_P2P_DEBUG ? { log: { info: (m: string) => console.log(m), warn: (m: string) => console.log(m) } } : {}),
  });
  const received: TestNode['received'] = [];
  net.on('record', (r, from) => {
    source.add(r);
    received.push({ r, from });
  });
  return { net, source, received, dir };
}

/** Publishes and stores (as the real node does). */
export async function publish(node: TestNode, body: ResultBody | ClaimBody | BestBody | NoiseBody | VerifyBody): Promise<SignedRecord> {
  const r = await node.net.publish(body);
  node.source.add(r);
  return r;
}

export async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const HW = { device: 'cpu' as const, name: 'Test CPU', count: 1, memoryGb: 16, torch: '2.13.0', cuda: null, python: '3.12.3' };

export function resultBody(n: number, over: Partial<ResultBody> = {}): ResultBody {
  const diff = `--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-LR = 0.01\n+LR = 0.0${n}\n`;
  return {
    type: 'result',
    experiment: expId(n),
    parentHash: sha('parent'),
    hash: sha(`candidate ${n}`),
    diffHash: sha(diff),
    diff,
    fingerprint: sha(`fp-${n}`),
    status: 'keep',
    hypothesis: `lower the learning rate to 0.0${n} — “quotes” and ünïcode`,
    proposer: 'mutate',
    outcome: 'ok',
    reason: null,
    metrics: {
      val_bpb: 0.99 - n / 1000, training_seconds: 300.1, total_seconds: 325.9, peak_vram_mb: 45060.2,
      mfu_percent: 39.8, total_tokens_M: 499.6, num_steps: 953, num_params_M: 50.3, depth: 8,
    },
    hardware: HW,
    dataset: 'sotu',
    budgetSeconds: 300,
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:05:25.900Z',
    lineage: [expId(0)],
    ...over,
  };
}

export function claimBody(n: number): ClaimBody {
  return {
    type: 'claim',
    experiment: expId(n),
    fingerprint: sha(`fp-${n}`),
    parentHash: sha('parent'),
    hash: sha(`candidate ${n}`),
    hypothesis: 'try something',
    hardware: 'Test CPU',
    expires: new Date(Date.now() + 600_000).toISOString(),
  };
}

export function bestBody(n: number): BestBody {
  return { type: 'best', hash: sha(`candidate ${n}`), val_bpb: 0.97, experiment: expId(n), hardware: 'Test CPU', lineage: [expId(0), expId(n)] };
}

export function noiseBody(n: number): NoiseBody {
  return { type: 'noise', hash: sha(`candidate ${n}`), seeds: [1001, 1002, 1003], values: [0.991, 0.994, 0.989], sigma: 0.0025166, k: 2, hardware: HW };
}

/** A replication of another peer's result: 0.97 claimed, 0.9712 measured, within 0.005. */
export function verifyBody(n: number, claimant: string): VerifyBody {
  return {
    type: 'verify', claimant, experiment: expId(n), hash: sha(`candidate ${n}`), claimed: 0.97, val_bpb: 0.9712,
    outcome: 'ok', tolerance: 0.005, verdict: 'confirm', hardware: HW,
  };
}

/**
 * A bare libp2p peer on 127.0.0.1 with no swarm logic: what an attacker (or a crowd of plain
 * identities) runs. With `gossip`, it speaks gossipsub with a strict signature policy.
 */
export async function rawPeer(opts: { gossip?: boolean; privateKey?: PrivateKey } = {}) {
  return createLibp2p({
    privateKey: opts.privateKey ?? await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ...(opts.gossip ? { pubsub: gossipsub({ globalSignaturePolicy: 'StrictSign', allowPublishToZeroTopicPeers: true, fallbackToFloodsub: false }) } : {}),
    },
  });
}

/** startNode, with every node this file starts stopped after each test and its folder removed at the end. */
export function nodePool(): (opts?: Parameters<typeof startNode>[0]) => Promise<TestNode> {
  const running: TestNode[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((n) => n.net.stop().catch(() => undefined)));
  });
  afterAll(cleanupDirs);
  return async (opts = {}) => {
    const n = await startNode(opts);
    running.push(n);
    return n;
  };
}
