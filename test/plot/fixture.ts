/** Real state folders for the plot and export tests: records in the real store, peers' results signed. */
import { mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import type { ExperimentRecord, ExperimentStatus } from '../../src/core/index.js';
import { LIMITS, loadOrCreateIdentity, safeText, signRecord, validateRecord, type DraftRecord, type ResultBody, type SignedRecord } from '../../src/p2p/index.js';
import { openStore } from '../../src/store/index.js';
import { makeRecord } from '../helpers/records.js';

export const PROGRAM = 'abcdef0123456789';
const T0 = Date.parse('2026-12-01T10:00:00.000Z');

/** An experiment id in the shape newId() gives (the wire accepts no other). */
export const expId = (n: number, salt = 0) => `${(n + salt * 1000).toString(36).padStart(9, '0')}-${(0xa0000000 + n + salt).toString(16)}`;

/** One of this node's experiments; crashes and invalid proposals carry no metrics. */
export function record(seq: number, status: ExperimentStatus, val: number | null, hypothesis = `change ${seq}`): ExperimentRecord {
  const base = makeRecord({ seq });
  const ran = val !== null;
  return makeRecord({
    id: expId(seq), seq, status, hypothesis, commit: status === 'invalid' ? null : 'd'.repeat(40),
    metrics: ran ? { ...base.metrics!, val_bpb: val } : null, outcome: status === 'crash' ? 'crash' : status === 'invalid' ? null : 'ok',
    reason: status === 'keep' ? null : `${status} reason`,
    startedAt: new Date(T0 + seq * 60_000).toISOString(), endedAt: new Date(T0 + seq * 60_000 + 50_000).toISOString(),
  });
}

/** A result as a node shares it (the record's statement on the wire; its hypothesis made wire-safe, as outbound.ts does). */
export function resultOf(r: Pick<ExperimentRecord, 'id' | 'status' | 'hypothesis' | 'metrics' | 'startedAt' | 'endedAt'>): ResultBody {
  return {
    type: 'result', experiment: r.id, parentHash: 'a'.repeat(64), hash: 'b'.repeat(64), diffHash: 'c'.repeat(64), diff: null,
    fingerprint: 'e'.repeat(64), status: r.status as ResultBody['status'], hypothesis: safeText(r.hypothesis, LIMITS.hypothesisChars), proposer: 'mutate',
    outcome: r.status === 'crash' ? 'crash' : 'ok', reason: null, metrics: r.metrics, hardware: null, dataset: 'sotu',
    budgetSeconds: 3, startedAt: r.startedAt, endedAt: r.endedAt!, lineage: [],
  };
}

export interface Peer {
  key: PrivateKey;
  id: string;
  results: ResultBody[];
}

export async function peer(results: ResultBody[], key?: PrivateKey): Promise<Peer> {
  const k = key ?? await generateKeyPair('Ed25519');
  return { key: k, id: peerIdFromPrivateKey(k).toString(), results };
}

/**
 * A stopped node's state folder: `records` in its store and, signed by their peers, every peer's
 * results as shared records (checked as a receiver would). `self` becomes the node's identity.
 */
export async function makeState(records: ExperimentRecord[], opts: { self?: boolean; peers?: Peer[] } = {}): Promise<{ state: string; self: Peer | null }> {
  const state = await mkdtemp(join(tmpdir(), 'swarm-plot-'));
  let self: Peer | null = null;
  if (opts.self) {
    const ran = records.filter((r) => r.status === 'keep' || r.status === 'discard' || r.status === 'crash');
    self = await peer(ran.map(resultOf), await loadOrCreateIdentity(join(state, 'identity.key')));
  }
  const store = await openStore(join(state, 'db'));
  try {
    for (const r of records) await store.put(r);
    for (const p of [...(self ? [self] : []), ...(opts.peers ?? [])]) {
      let seq = 1;
      for (const body of p.results) await store.putShared(await signed(p, body, seq++) as never);
    }
  } finally {
    await store.close();
  }
  return { state, self };
}

async function signed(p: Peer, body: ResultBody, seq: number): Promise<SignedRecord> {
  const draft = { ...body, v: 1, program: PROGRAM, peer: p.id, seq, time: body.endedAt } as DraftRecord;
  const rec = await signRecord(draft, p.key);
  const v = validateRecord(JSON.parse(JSON.stringify(rec)), PROGRAM);
  if (!v.ok) throw new Error(`fixture record refused: ${v.error}`);
  return rec;
}

/** A PNG's size from its IHDR chunk, after checking the 8-byte signature. */
export async function pngSize(file: string): Promise<{ width: number; height: number }> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(24);
    await fh.read(head, 0, 24, 0);
    if (!head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error(`${file} is not a PNG`);
    if (head.toString('latin1', 12, 16) !== 'IHDR') throw new Error(`${file} has no IHDR first`);
    return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
  } finally {
    await fh.close();
  }
}
