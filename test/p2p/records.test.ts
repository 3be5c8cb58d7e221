import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import {
  LIMITS, SeqTracker, canonicalJson, checkRecord, decodeRecord, encodeRecord, parseSyncRequest, signRecord, signingBytes,
  validateRecord, verifyRecord, type DraftRecord, type SignedRecord,
} from '../../src/p2p/index.js';
import { PROGRAM, bestBody, expId, claimBody, noiseBody, resultBody, sha, verifyBody } from './helpers.js';

const keyA = await generateKeyPair('Ed25519');
const keyB = await generateKeyPair('Ed25519');
const peerA = peerIdFromPrivateKey(keyA).toString();
const peerB = peerIdFromPrivateKey(keyB).toString();

function draft(body: object, over: Record<string, unknown> = {}): DraftRecord {
  return { ...body, v: 1, program: PROGRAM, peer: peerA, seq: 1, time: new Date().toISOString(), ...over } as DraftRecord;
}
const signed = (body: object, over: Record<string, unknown> = {}): Promise<SignedRecord> => signRecord(draft(body, over), keyA);
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('canonical JSON', () => {
  it('sorts keys recursively, drops whitespace, keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: 'é\n' }], c: true } })).toBe('{"a":{"c":true,"d":[3,{"y":"é\\n","z":null}]},"b":1}');
    expect(canonicalJson({ x: 1.5, y: -0, z: 1e21, w: 0.000001 })).toBe('{"w":0.000001,"x":1.5,"y":0,"z":1e+21}');
  });
  it('keeps __proto__ an ordinary key and refuses non-JSON values', () => {
    const o = JSON.parse('{"__proto__":{"a":1},"b":2}') as unknown;
    expect(canonicalJson(o)).toBe('{"__proto__":{"a":1},"b":2}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
    expect(() => canonicalJson({ a: undefined })).toThrow();
    expect(() => canonicalJson({ a: new Date() })).toThrow();
  });
});

describe('noise and verify records', () => {
  it('accepts a verdict only when it follows from claimed, val_bpb and tolerance', async () => {
    expect((await checkRecord(await signed(verifyBody(1, peerB)), PROGRAM)).ok).toBe(true);
    const flipped = await checkRecord(await signed({ ...verifyBody(1, peerB), verdict: 'dispute' }), PROGRAM);
    expect(flipped).toMatchObject({ ok: false, reason: 'schema', error: expect.stringMatching(/verdict does not follow/) });
    const crashed = { ...verifyBody(1, peerB), val_bpb: null, outcome: 'crash' };
    expect((await checkRecord(await signed({ ...crashed, verdict: 'dispute' }), PROGRAM)).ok).toBe(true);
    expect((await checkRecord(await signed({ ...crashed, verdict: 'confirm' }), PROGRAM)).ok).toBe(false);
    const worse = { ...verifyBody(1, peerB), val_bpb: 0.97 + 0.005 + 1e-9 };
    expect((await checkRecord(await signed({ ...worse, verdict: 'dispute' }), PROGRAM)).ok).toBe(true);
  });

  it('refuses a peer verifying its own result, and a noise floor with more values than seeds', async () => {
    expect(await checkRecord(await signed(verifyBody(1, peerA)), PROGRAM)).toMatchObject({ ok: false, error: expect.stringMatching(/own result/) });
    expect(await checkRecord(await signed({ ...noiseBody(1), seeds: [1] }), PROGRAM)).toMatchObject({ ok: false, error: expect.stringMatching(/more values than seeds/) });
    expect((await checkRecord(await signed({ ...noiseBody(1), sigma: -1 }), PROGRAM)).ok).toBe(false);
  });
});

describe('sign / verify', () => {
  it('verifies every record type, also after a JSON round trip with keys reordered', async () => {
    for (const body of [resultBody(1), claimBody(2), bestBody(3), noiseBody(4), verifyBody(5, peerB)]) {
      const r = await signed(body);
      expect(r.sig).toMatch(/^[A-Za-z0-9+/]{86}==$/);
      expect(await verifyRecord(r)).toBe(true);
      const reordered = Object.fromEntries(Object.entries(clone(r)).reverse()) as SignedRecord;
      expect(await verifyRecord(reordered)).toBe(true);
      expect((await checkRecord(reordered, PROGRAM)).ok).toBe(true);
    }
  });

  it('signs exactly the canonical JSON without sig', async () => {
    const r = await signed(bestBody(1));
    const { sig: _sig, ...rest } = r;
    expect(new TextDecoder().decode(signingBytes(r))).toBe(canonicalJson(rest));
    expect(await keyA.publicKey.verify(signingBytes(r), Buffer.from(r.sig, 'base64'))).toBe(true);
  });

  it('detects tampering with any field', async () => {
    const r = await signed(resultBody(1));
    const tampers: Record<string, unknown>[] = [
      { hypothesis: 'something else' }, { seq: 2 }, { time: '2020-01-01T00:00:01.000Z' }, { status: 'discard' },
      { metrics: { ...r.type === 'result' ? r.metrics : {}, val_bpb: 0.5 } }, { lineage: [] }, { program: 'ff' },
      { peer: peerB }, { hash: null },
    ];
    for (const t of tampers) expect(await verifyRecord({ ...r, ...t } as SignedRecord)).toBe(false);
    // A nested change.
    const nested = clone(r) as SignedRecord & { hardware: { name: string } };
    nested.hardware.name = 'NVIDIA H100';
    expect(await verifyRecord(nested)).toBe(false);
  });

  it('rejects a record signed by another key than its peer field names', async () => {
    const forged = await signRecord(draft(bestBody(1), { peer: peerA }), keyB);
    expect(await verifyRecord(forged)).toBe(false);
    expect((await checkRecord(forged, PROGRAM)).ok ? 'ok' : (await checkRecord(forged, PROGRAM) as { reason: string }).reason).toBe('signature');
  });

  it('never throws on nonsense peers or signatures', async () => {
    const r = await signed(bestBody(1));
    expect(await verifyRecord({ ...r, peer: 'QmNotAPeer' })).toBe(false);
    expect(await verifyRecord({ ...r, sig: 'AAAA' })).toBe(false);
    expect(await verifyRecord({ ...r, sig: `${'A'.repeat(86)}==` })).toBe(false);
  });

  it('refuses to sign with non-Ed25519 keys', async () => {
    const k = await generateKeyPair('secp256k1');
    await expect(signRecord(draft(bestBody(1)), k)).rejects.toThrow(/Ed25519/);
  });
});

describe('validateRecord', () => {
  const reason = async (value: unknown, program = PROGRAM): Promise<string> => {
    const v = validateRecord(value, program);
    return v.ok ? 'ok' : v.reason;
  };

  it('accepts well-formed records', async () => {
    for (const body of [resultBody(1), resultBody(2, { status: 'crash', outcome: 'crash', metrics: null, hash: null, diff: null, reason: 'oom' }), claimBody(1), bestBody(1)]) {
      expect(await reason(clone(await signed(body)))).toBe('ok');
    }
  });

  it('rejects schema violations', async () => {
    const r = clone(await signed(resultBody(1))) as unknown as Record<string, unknown>;
    const bad: Record<string, unknown>[] = [
      { type: 'gossip' }, { type: undefined }, { v: 2 }, { seq: 0 }, { seq: 1.5 }, { seq: '1' }, { time: 'yesterday' },
      { time: '2025-01-01T00:00:00+01:00' }, { parentHash: 'abc' }, { parentHash: sha('x').toUpperCase() }, { hash: 5 },
      { status: 'running' }, { status: 'invalid' }, { outcome: 'maybe' }, { dataset: 'imagenet' }, { budgetSeconds: 0 },
      { budgetSeconds: -1 }, { lineage: expId(0) }, { lineage: [1] }, { metrics: { val_bpb: 1 } },
      { metrics: { ...(r.metrics as object), extra: 1 } }, { metrics: { ...(r.metrics as object), val_bpb: '0.9' } },
      { hardware: { name: 'x' } }, { hypothesis: 'h'.repeat(LIMITS.hypothesisChars + 1) }, { extra: true },
      { diff: 'not the diff' }, { diff: 'x'.repeat(LIMITS.diffBytes + 1) }, { status: 'keep', metrics: null },
      { peer: 'not base58 0OIl' }, { sig: 'short' }, { program: 'XYZ' },
    ];
    for (const b of bad) {
      const v = { ...r, ...b };
      for (const [k, x] of Object.entries(b)) if (x === undefined) delete v[k];
      expect([b, await reason(v)]).toEqual([b, b.program === 'XYZ' ? 'foreign-program' : 'schema']);
    }
    const missing = { ...r };
    delete missing.fingerprint;
    expect(await reason(missing)).toBe('schema');
    expect(await reason([r])).toBe('schema');
    expect(await reason(null)).toBe('schema');
  });

  it('allows a hypothesis of exactly the limit counted in code points', async () => {
    const h = '😀'.repeat(LIMITS.hypothesisChars); // 1000 UTF-16 units, 500 code points
    expect(await reason(clone(await signed(resultBody(1, { hypothesis: h }))))).toBe('ok');
  });

  it('checks claims expire after they are made, within a week', async () => {
    const c = claimBody(1);
    const time = { time: '2025-01-01T00:00:00.000Z' };
    expect(await reason(clone(await signed({ ...c, expires: '2024-12-31T23:59:59.000Z' }, time)))).toBe('schema');
    expect(await reason(clone(await signed({ ...c, expires: '2025-01-01T00:00:00.000Z' }, time)))).toBe('schema');
    expect(await reason(clone(await signed({ ...c, expires: '2025-02-01T00:00:00.000Z' }, time)))).toBe('schema');
    expect(await reason(clone(await signed({ ...c, expires: '2025-01-01T00:10:00.000Z' }, time)))).toBe('ok');
  });

  it('classifies unsigned and foreign-program records', async () => {
    const r = clone(await signed(bestBody(1))) as unknown as Record<string, unknown>;
    const { sig: _sig, ...unsigned } = r;
    expect(await reason(unsigned)).toBe('unsigned');
    expect(await reason(r, 'ffff')).toBe('foreign-program');
    expect(await reason(r)).toBe('ok');
  });
});

describe('decodeRecord', () => {
  it('classifies bytes', async () => {
    const r = await signed(resultBody(1));
    const go = async (b: Uint8Array): Promise<string> => {
      const v = await decodeRecord(b, PROGRAM);
      return v.ok ? 'ok' : v.reason;
    };
    expect(await go(encodeRecord(r))).toBe('ok');
    expect(await go(new TextEncoder().encode('{'))).toBe('invalid-json');
    expect(await go(Uint8Array.of(0xc3, 0x28))).toBe('invalid-json');
    expect(await go(new Uint8Array(LIMITS.messageBytes + 1).fill(0x20))).toBe('oversize');
    expect(await go(encodeRecord({ ...r, hypothesis: 'x' } as SignedRecord))).toBe('signature');
    expect(await go(new TextEncoder().encode('"just a string"'))).toBe('schema');
  });
});

describe('a self-reported result (a foreign harness ran it)', () => {
  it('validates, round-trips on the wire signed, and cannot be stripped or added by a relay', async () => {
    const r = await signed({ ...resultBody(1), selfReported: true });
    const back = await decodeRecord(encodeRecord(r), PROGRAM);
    expect(back).toMatchObject({ ok: true, record: { selfReported: true } });
    // The mark is signed: a relay cannot drop it (passing the print off as measured) nor add it.
    const { selfReported: _, ...stripped } = r as SignedRecord & { selfReported?: true };
    expect(await verifyRecord(stripped as SignedRecord)).toBe(false);
    expect(await verifyRecord({ ...(await signed(resultBody(1))), selfReported: true } as SignedRecord)).toBe(false);
    // Absent is the measured case; present it is exactly true.
    expect((await checkRecord(await signed(resultBody(1)), PROGRAM)).ok).toBe(true);
    for (const bad of [false, 'true', 1, null]) {
      expect(await checkRecord(await signed({ ...resultBody(1), selfReported: bad }), PROGRAM)).toMatchObject({ ok: false, reason: 'schema', error: expect.stringMatching(/^selfReported: expected true/) });
    }
    // Only results carry it.
    expect(await checkRecord(await signed({ ...bestBody(1), selfReported: true }), PROGRAM)).toMatchObject({ ok: false, error: 'unknown field "selfReported"' });
  });
});

describe('SeqTracker', () => {
  it('tracks the contiguous high-water mark and deduplicates', () => {
    const t = new SeqTracker();
    expect(t.add('p', 2)).toBe(true);
    expect(t.known()).toEqual({});
    expect(t.add('p', 1)).toBe(true);
    expect(t.add('p', 2)).toBe(false);
    expect(t.known()).toEqual({ p: 2 });
    t.add('p', 5);
    expect(t.known()).toEqual({ p: 2 });
    t.seed({ p: 4, q: 3 });
    expect(t.known()).toEqual({ p: 5, q: 3 });
    expect(t.add('q', 3)).toBe(false);
  });

  it('bounds what it remembers above a gap, forgetting the lowest half at once', () => {
    const t = new SeqTracker(10);
    for (let s = 2; s <= 12; s += 1) t.add('p', s); // 11 seqs above the gap at 1
    // Over the bound: the lowest seqs are forgotten, down to half the bound.
    expect([2, 3, 4, 5, 6, 7].map((s) => t.has('p', s))).toEqual([false, false, false, false, false, false]);
    expect([8, 9, 10, 11, 12].map((s) => t.has('p', s))).toEqual([true, true, true, true, true]);
    expect(t.add('p', 13)).toBe(true);
    expect(t.has('p', 8)).toBe(true); // room again: nothing more forgotten
    expect(t.known()).toEqual({});
  });
});

describe('parseSyncRequest', () => {
  const enc = (x: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(x));
  it('bounds the page and rejects nonsense', () => {
    expect(parseSyncRequest(enc({ after: { [peerA]: 3 }, limit: 100000 }))).toEqual({ after: { [peerA]: 3 }, limit: 256 });
    for (const bad of [{}, { after: [], limit: 1 }, { after: {}, limit: 0 }, { after: { [peerA]: -1 }, limit: 1 }, { after: { 'no/slash': 1 }, limit: 1 }]) {
      expect(() => parseSyncRequest(enc(bad))).toThrow();
    }
  });
});
