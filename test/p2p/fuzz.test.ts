/**
 * Fuzzing of the p2p receive paths.
 *
 * 1. Pure layer: thousands of random and mutated inputs through decodeRecord / checkRecord /
 *    validateRecord / verifyRecord and parseSyncRequest.
 * 2. Live node: a real node on 127.0.0.1 is fed random and mutated gossip by attacker peers and
 *    random / truncated / oversized / hanging length-prefixed frames on its sync and fetch
 *    protocols, and must keep working.
 *
 * Deterministic: everything random comes from one seeded PRNG. Override the seed with
 * SWARM_FUZZ_SEED=<uint32>; the seed is printed when a test fails.
 */
import '../../src/p2p/shim.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { lpStream } from '@libp2p/utils';
import type { PrivateKey, Stream } from '@libp2p/interface';
import {
  DROP_REASONS, LIMITS, WIRE, FETCH_FOUND, canonicalJson, checkRecord, decodeRecord, encodeRecord, parseSyncRequest,
  protocols, signRecord, topics, validateRecord, verifyRecord, type DraftRecord, type SignedRecord,
} from '../../src/p2p/index.js';
import { PROGRAM, bestBody, expId, claimBody, cleanupDirs, noiseBody, publish, resultBody, startNode, verifyBody, waitFor } from './helpers.js';

afterAll(cleanupDirs);

const SEED = (Number(process.env.SWARM_FUZZ_SEED ?? 0x5eed2025) >>> 0);

// ---------------------------------------------------------------------------------------------
// PRNG and generators

/** mulberry32: small, fast, good enough for fuzzing. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

const enc = new TextEncoder();
const utf8 = (s: string): Uint8Array => enc.encode(s);
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const canon = (r: unknown): string => {
  const { sig: _sig, ...rest } = r as Record<string, unknown>;
  return canonicalJson(rest);
};
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
};
function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}
const frame = (body: Uint8Array): Uint8Array => concat(varint(body.byteLength), body);

const UNICODE_EDGES = [
  '\u0000', '\ud800', '\udfff', '\udc00\ud800', '\ud83d\ude00', '\u202e', '\ufeff', 'e\u0301', '\u2028\u2029', '\uffff',
  '\uff21', '\u0130', '\u00df', '\u{10ffff}', '\\', '"', '\n\r\t\b\f', '\u001f', '\u007f', '\u0085',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const NUMBER_TOKENS = [
  'NaN', 'Infinity', '-Infinity', 'undefined', '1e999', '-1e999', '0x10', '01', '1.', '.5', '+1', '-0', '1e-400',
  '9007199254740993', '-9007199254740993', '1.0', '1e0', '5e-324', '1.7976931348623157e308', 'null', 'true', '""',
];
const JSON_SOUP = ['{', '}', '[', ']', ',', ':', '"', '\\', 'null', 'true', 'false', '"sig"', '"type"', '"result"', '1', '-', 'e', ' ', '\n', '"\\u0000"', '"\\ud800"'];

/** A polluting payload: if anything merges untrusted JSON naively, Object.prototype gets `fuzzPolluted`. */
const POLLUTER = '{"__proto__":{"fuzzPolluted":"yes"},"constructor":{"prototype":{"fuzzPolluted":"yes"}}}';

function weirdString(g: Gen): string {
  switch (g.int(8)) {
    case 0: return '';
    case 1: return g.pick(UNICODE_EDGES).repeat(g.range(1, 600));
    case 2: return 'x'.repeat(g.pick([255, 256, 257, 499, 500, 501, 2000, 2001, 70_000]));
    case 3: return '\ud83d\ude00'.repeat(g.pick([256, 257, 500, 501]));
    case 4: return g.pick(PROTO_KEYS);
    case 5: return Array.from({ length: g.range(1, 40) }, () => g.pick(UNICODE_EDGES)).join('');
    case 6: return g.pick(['keep', 'KEEP', 'result', 'claim', 'best', 'noise', 'verify', 'confirm', 'dispute', 'sotu', 'climbmix', 'cuda', '2025-01-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-01-01T24:00:00Z', '0'.repeat(64), 'F'.repeat(64)]);
    default: return String.fromCharCode(...Array.from({ length: g.range(1, 64) }, () => g.int(0x10000)));
  }
}

function deep(depth: number, leaf: unknown, asArray: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
}

function weirdValue(g: Gen, level = 0): unknown {
  switch (g.int(level > 1 ? 10 : 14)) {
    case 0: return null;
    case 1: return g.chance(0.5);
    case 2: return g.pick([0, -0, 1, -1, 1.5, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), 1e308, -1e308, 5e-324, 1e15, 1e15 + 1, 604800, 604801, 1e6 + 1]);
    case 3: return g.int(1 << 30) - (1 << 29);
    case 4: case 5: return weirdString(g);
    case 6: return [];
    case 7: return {};
    case 8: return JSON.parse(POLLUTER) as unknown;
    case 9: return g.pick(PROTO_KEYS);
    case 10: return Array.from({ length: g.pick([1, 2, 4096, 4097]) }, () => (g.chance(0.9) ? expId(0) : weirdValue(g, level + 1)));
    case 11: return deep(g.pick([10, 100, 1000]), weirdValue(g, level + 1), g.chance(0.5));
    case 12: return Object.fromEntries(Array.from({ length: g.range(1, 6) }, () => [g.pick([...PROTO_KEYS, 'val_bpb', 'device', 'x']), weirdValue(g, level + 1)]));
    default: return [weirdValue(g, level + 1), weirdValue(g, level + 1)];
  }
}

type Obj = Record<string, unknown>;

/** Paths (top level and one level down) of an object, for picking a field to mutate. */
function paths(o: Obj): string[][] {
  const out: string[][] = [];
  for (const k of Object.keys(o)) {
    out.push([k]);
    const v = o[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const k2 of Object.keys(v)) out.push([k, k2]);
  }
  return out;
}
function parentOf(o: Obj, path: string[]): Obj {
  let cur: Obj = o;
  for (const k of path.slice(0, -1)) cur = cur[k] as Obj;
  return cur;
}
function setOwn(o: Obj, key: string, value: unknown): void {
  // defineProperty so that "__proto__" becomes an ordinary own key, as JSON.parse makes it.
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** One structural mutation of a (cloned) record object. */
function mutateObject(g: Gen, o: Obj, others: { peer: string; sig: string }): string {
  const ps = paths(o);
  const path = g.pick(ps);
  const parent = parentOf(o, path);
  const key = path[path.length - 1]!;
  switch (g.int(12)) {
    case 0: delete parent[key]; return `delete ${path.join('.')}`;
    case 1: setOwn(parent, key, weirdValue(g)); return `swap ${path.join('.')}`;
    case 2: setOwn(parent, g.pick([...PROTO_KEYS, 'extra', 'Sig', 'sig ', 'v2']), weirdValue(g)); return 'extra key';
    case 3: {
      const v = parent[key];
      if (typeof v === 'string') setOwn(parent, key, g.pick([v + g.pick(UNICODE_EDGES), v.toUpperCase(), v.slice(0, -1), ` ${v}`, v.normalize('NFD'), `${v}\u0000`]));
      else if (typeof v === 'number') setOwn(parent, key, g.pick([v + 1, v - 1, v * (1 + Number.EPSILON), -v, v + 0.5]));
      else if (Array.isArray(v)) setOwn(parent, key, g.chance(0.5) ? [...v, expId(9)] : v.slice(1));
      else setOwn(parent, key, v === null ? {} : null);
      return `tweak ${path.join('.')}`;
    }
    case 4: o.peer = others.peer; return 'peer of another key';
    case 5: o.sig = others.sig; return 'sig of another record';
    case 6: {
      const s = typeof o.sig === 'string' ? o.sig : '';
      const i = g.int(Math.max(1, s.length));
      const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_';
      o.sig = s.slice(0, i) + g.pick([...chars]) + s.slice(i + 1);
      return 'sig char';
    }
    case 7: o.seq = g.pick([0, -1, 1.5, 2 ** 53, '1', null, (typeof o.seq === 'number' ? o.seq : 0) + 1]); return 'seq';
    case 8: o.type = g.pick(['result', 'claim', 'best', 'noise', 'verify', 'Result', '', 'gossip', null, 1, ['result'], '__proto__']); return 'type';
    case 9: o.program = g.pick([PROGRAM.toUpperCase(), `${PROGRAM}0`, 'ffff', '', 'a'.repeat(129), '__proto__', 1, null]); return 'program';
    case 10: o.time = g.pick(['2025-01-01T00:00:00Z', '2025-13-01T00:00:00Z', '2025-01-01T00:00:00.1234567890Z', '2025-01-01 00:00:00Z', '2025-01-01T00:00:00+00:00', '+275760-09-13T00:00:00Z', '1970-01-01T00:00:00Z', '']); return 'time';
    default: o.v = g.pick([2, 0, '1', 1.0000001, true, null]); return 'v';
  }
}

/** One byte-level mutation of encoded JSON. */
function mutateBytes(g: Gen, b: Uint8Array): { bytes: Uint8Array; what: string } {
  const s = new TextDecoder().decode(b);
  switch (g.int(14)) {
    case 0: {
      const out = b.slice();
      for (let n = g.range(1, 4); n > 0; n--) out[g.int(out.length)]! ^= 1 << g.int(8);
      return { bytes: out, what: 'bit flips' };
    }
    case 1: return { bytes: b.slice(0, g.int(b.length)), what: 'truncate' };
    case 2: { const i = g.int(b.length); return { bytes: concat(b.slice(0, i), b.slice(i + g.range(1, 16))), what: 'delete bytes' }; }
    case 3: { const i = g.int(b.length); return { bytes: concat(b.slice(0, i), g.bytes(g.range(1, 16)), b.slice(i)), what: 'insert bytes' }; }
    case 4: {
      // Replace a number or a literal value with a JS-only / out-of-range number token.
      const m = [...s.matchAll(/:(-?\d[\d.eE+-]*|null|true|false)/g)];
      if (m.length === 0) return { bytes: b, what: 'noop' };
      const hit = g.pick(m);
      const i = hit.index + 1;
      return { bytes: utf8(s.slice(0, i) + g.pick(NUMBER_TOKENS) + s.slice(i + hit[1]!.length)), what: 'number token' };
    }
    case 5: {
      // Duplicate a key: before the original (last one wins, so harmless) or after it (an override).
      const key = g.pick(['seq', 'peer', 'type', 'program', 'sig', 'hypothesis', 'v', '__proto__', 'constructor']);
      const val = JSON.stringify(weirdValue(g)) ?? 'null';
      return g.chance(0.5)
        ? { bytes: utf8(`{"${key}":${val},${s.slice(1)}`), what: `dup key ${key} first` }
        : { bytes: utf8(`${s.slice(0, -1)},"${key}":${val}}`), what: `dup key ${key} last` };
    }
    case 6: {
      // Semantically neutral: whitespace, escaped characters, key order.
      const o = JSON.parse(s) as Obj;
      const keys = Object.keys(o).sort(() => g.next() - 0.5);
      const body = keys.map((k) => `\n "${[...k].map((c) => (g.chance(0.3) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('')}" :\t${JSON.stringify(o[k])}`).join(' ,');
      return { bytes: utf8(`\r\n{${body}}\n`), what: 'neutral re-layout' };
    }
    case 7: return { bytes: concat(Uint8Array.of(0xef, 0xbb, 0xbf), b), what: 'BOM' };
    case 8: {
      const bad = g.pick([[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [0x80], [0xe2, 0x82]]);
      const i = g.int(b.length);
      return { bytes: concat(b.slice(0, i), Uint8Array.from(bad), b.slice(i)), what: 'invalid utf-8' };
    }
    case 9: return { bytes: concat(b, utf8(g.pick(['', ' ', ',', '}', 'x', '\u0000', '{}', POLLUTER]))), what: 'trailing garbage' };
    case 10: return { bytes: concat(b, utf8(' '.repeat(LIMITS.messageBytes - b.byteLength + g.range(1, 2)))), what: 'padded past 256 KiB' };
    case 11: return { bytes: utf8(`${s.slice(0, -1)},"__proto__":${POLLUTER},"constructor":{"prototype":{"fuzzPolluted":1}}}`), what: 'proto keys' };
    case 12: {
      const n = g.pick([1000, 50_000, 120_000]);
      return { bytes: utf8(`${s.slice(0, -1)},"deep":${'['.repeat(n)}${']'.repeat(n)}}`), what: `nested ${n}` };
    }
    default: return { bytes: utf8(`[${s}]`), what: 'wrapped in array' };
  }
}

function randomInput(g: Gen): Uint8Array {
  switch (g.int(5)) {
    case 0: return g.bytes(g.range(0, 512));
    case 1: return utf8(Array.from({ length: g.range(1, 200) }, () => g.pick(JSON_SOUP)).join(''));
    case 2: return utf8(JSON.stringify(weirdValue(g)) ?? 'null');
    case 3: return utf8(g.pick(['', 'null', '{}', '[]', '"x"', '0', POLLUTER, '{"sig":null}', '{"sig":"x","type":"result"}', '{"type":"__proto__","sig":""}']));
    default: return utf8(`{${'"a":{'.repeat(g.pick([10, 5000]))}}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures

function draftOf(body: object, peer: string, seq: number, over: Obj = {}): DraftRecord {
  return { ...body, v: 1, program: PROGRAM, peer, seq, time: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(), ...over } as DraftRecord;
}

/** A few valid records of every shape, signed by `key`. */
async function baseRecords(key: PrivateKey, firstSeq = 1): Promise<SignedRecord[]> {
  const peer = peerIdFromPrivateKey(key).toString();
  const time = (s: number): string => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
  const claim = (n: number, seq: number) => ({ ...claimBody(n), expires: new Date(Date.parse(time(seq)) + 600_000).toISOString() });
  const bodies: object[] = [
    resultBody(1),
    resultBody(2, { diff: null, status: 'discard', metrics: null, reason: 'not-better', hypothesis: '\ud83d\ude00'.repeat(500) }),
    resultBody(3, { status: 'crash', outcome: 'crash', metrics: null, hardware: null, reason: 'oom', lineage: [] }),
    claim(4, firstSeq + 3),
    bestBody(5),
    { ...bestBody(6), lineage: Array.from({ length: 4096 }, (_, i) => expId(i)) },
    noiseBody(7),
    { ...verifyBody(8, '12D3KooWGzh8Jd3xh3TD9PcWhTXiDrxXXNdS6HXNeEKhqjrByfz6'), val_bpb: null, outcome: 'crash', verdict: 'dispute' },
  ];
  return Promise.all(bodies.map((b, i) => signRecord(draftOf(b, peer, firstSeq + i, { time: time(firstSeq + i) }), key)));
}

/** Object.prototype / Array.prototype must never gain keys. */
const protoSnapshot = (): string => JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), Object.getOwnPropertyNames(Array.prototype).sort()]);
function expectNoPollution(before: string, ctx: string): void {
  expect(protoSnapshot(), `prototype polluted (${ctx})`).toBe(before);
  expect(({} as Obj).fuzzPolluted, `Object.prototype.fuzzPolluted (${ctx})`).toBeUndefined();
}

const seededKey = (n: number): Promise<PrivateKey> =>
  generateKeyPairFromSeed('Ed25519', Uint8Array.from({ length: 32 }, (_, i) => (Math.imul(SEED + n, 2654435761) >>> (i % 24)) & 0xff ^ i));

const withSeed = async (fn: () => Promise<void>): Promise<void> => {
  try {
    await fn();
  } catch (err) {
    console.error(`fuzz failed with SWARM_FUZZ_SEED=${SEED}`);
    throw err;
  }
};

const PEER_RE = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/;
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
/** A syntactically valid (base58btc) but unknown peer id, distinct for each n. */
const fakePeer = (n: number): string => {
  let s = '';
  do {
    s = B58[n % 58]! + s;
    n = Math.floor(n / 58);
  } while (n > 0);
  return `12D3KooW${'z'.repeat(36)}${s}`;
};

// ---------------------------------------------------------------------------------------------
// 1. Pure layer

describe('fuzz: record and sync-request decoding', () => {
  it('never throws, accepts only authentic records, never pollutes prototypes', async () => withSeed(async () => {
    const g = new Gen(SEED);
    const keyA = await seededKey(1);
    const keyB = await seededKey(2);
    const peerB = peerIdFromPrivateKey(keyB).toString();
    const bases = [...await baseRecords(keyA), ...await baseRecords(keyB, 100)];
    for (const b of bases) expect((await decodeRecord(encodeRecord(b), PROGRAM)).ok).toBe(true);
    const proto = protoSnapshot();

    const counts = { inputs: 0, accepted: 0, acceptedMutants: 0, resigned: 0, resignedAccepted: 0, malleableSig: 0 };
    const reasons: Record<string, number> = {};
    const t0 = Date.now();

    const check = async (bytes: Uint8Array, what: string, base?: SignedRecord, resigned?: SignedRecord): Promise<void> => {
      counts.inputs++;
      let v: Awaited<ReturnType<typeof decodeRecord>>;
      try {
        v = await decodeRecord(bytes, PROGRAM);
      } catch (err) {
        throw new Error(`decodeRecord threw on ${what}: ${String(err)}`);
      }
      if (!v.ok) {
        expect(DROP_REASONS).toContain(v.reason);
        reasons[v.reason] = (reasons[v.reason] ?? 0) + 1;
        return;
      }
      counts.accepted++;
      const r = v.record;
      expect(bytes.byteLength, what).toBeLessThanOrEqual(LIMITS.messageBytes);
      expect(r.program, what).toBe(PROGRAM);
      expect(await verifyRecord(r), `accepted but does not re-verify: ${what}`).toBe(true);
      expect(validateRecord(r, PROGRAM).ok, `accepted but does not re-validate: ${what}`).toBe(true);
      expect(validateRecord(clone(r), PROGRAM).ok, `accepted but a JSON round trip does not validate: ${what}`).toBe(true);
      expect((await decodeRecord(encodeRecord(r), PROGRAM)).ok, `accepted but re-encoding is rejected: ${what}`).toBe(true);
      // Everything the signature covers is exactly what was signed.
      const expected = resigned ?? base;
      if (expected !== undefined) {
        expect(canon(r), `a record with a changed signed field was accepted: ${what}`).toBe(canon(expected));
        if (resigned === undefined) counts.acceptedMutants++;
        if (r.sig !== expected.sig) counts.malleableSig++;
      } else {
        // Random input: it could only be accepted by reproducing one of our records.
        expect(bases.map(canon), `random input accepted: ${what}`).toContain(canon(r));
      }
    };

    // (a) random bytes and JSON soup
    for (let i = 0; i < 1200; i++) await check(randomInput(g), `random #${i}`);
    expectNoPollution(proto, 'random');
    const tRandom = Date.now() - t0;

    // (b) byte-level mutations of valid encodings
    for (let i = 0; i < 1800; i++) {
      const base = g.pick(bases);
      let bytes = encodeRecord(base);
      const whats: string[] = [];
      for (let n = g.pick([1, 1, 1, 2, 3]); n > 0; n--) {
        let m: { bytes: Uint8Array; what: string };
        try {
          m = mutateBytes(g, bytes);
        } catch {
          m = { bytes: g.bytes(8), what: 'mutator gave up' }; // a mutator that needs valid JSON input
        }
        bytes = m.bytes;
        whats.push(m.what);
      }
      await check(bytes, `bytes #${i} [${whats.join(', ')}]`, base);
    }
    expectNoPollution(proto, 'byte mutations');
    const tBytes = Date.now() - t0;

    // (c) structural mutations, checked through validateRecord/checkRecord directly and encoded
    for (let i = 0; i < 1800; i++) {
      const base = g.pick(bases);
      const o = clone(base) as unknown as Obj;
      const whats: string[] = [];
      for (let n = g.pick([1, 1, 2, 3]); n > 0; n--) whats.push(mutateObject(g, o, { peer: g.chance(0.5) ? peerB : String(base.peer), sig: g.pick(bases).sig }));
      const what = `object #${i} [${whats.join(', ')}]`;
      let val: ReturnType<typeof validateRecord>;
      try {
        val = validateRecord(o, PROGRAM);
      } catch (err) {
        throw new Error(`validateRecord threw on ${what}: ${String(err)}`);
      }
      const chk = await checkRecord(o, PROGRAM).catch((err: unknown) => { throw new Error(`checkRecord threw on ${what}: ${String(err)}`); });
      expect(await verifyRecord(o as unknown as SignedRecord).catch(() => 'threw'), what).not.toBe('threw');
      if (chk.ok) {
        expect(val.ok, what).toBe(true);
        expect(canon(chk.record), `a record with a changed signed field was accepted: ${what}`).toBe(canon(base));
      }
      let text: string | undefined;
      try {
        text = JSON.stringify(o);
      } catch { /* cyclic or BigInt: not encodable, not a wire input */ }
      if (text !== undefined) await check(utf8(text), what, base);

      // Re-signed by the key it names: now only the schema decides, and the two paths must agree.
      if (i % 4 === 0 && o.peer === base.peer) {
        const { sig: _sig, ...draft } = o;
        let resigned: SignedRecord | undefined;
        try {
          resigned = await signRecord(draft as unknown as DraftRecord, base.peer === peerB ? keyB : keyA);
        } catch { /* canonicalJson refuses it: it cannot be sent signed */ }
        if (resigned !== undefined) {
          counts.resigned++;
          const bytes = encodeRecord(resigned);
          const parsed = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
          const schemaOk = validateRecord(parsed, PROGRAM).ok && bytes.byteLength <= LIMITS.messageBytes;
          const d = await decodeRecord(bytes, PROGRAM);
          expect(d.ok, `re-signed ${what}: schema says ${schemaOk}, decode says ${JSON.stringify(d).slice(0, 300)}`).toBe(schemaOk);
          if (d.ok) counts.resignedAccepted++;
          await check(bytes, `re-signed ${what}`, base, resigned);
        }
      }
    }
    expectNoPollution(proto, 'object mutations');
    const tObjects = Date.now() - t0;

    // (d) sync requests
    const syncCounts = { inputs: 0, accepted: 0 };
    const validReq = (): Obj => ({
      after: Object.fromEntries(Array.from({ length: g.range(0, 5) }, (_, i) => [i % 2 ? peerB : String(bases[0]!.peer), g.int(100)])),
      limit: g.range(1, 300),
    });
    const checkSync = (bytes: Uint8Array, what: string): void => {
      syncCounts.inputs++;
      let res: ReturnType<typeof parseSyncRequest>;
      const t = Date.now();
      try {
        res = parseSyncRequest(bytes);
      } catch (err) {
        expect(err, `parseSyncRequest threw a non-Error on ${what}`).toBeInstanceOf(Error);
        return;
      } finally {
        expect(Date.now() - t, `parseSyncRequest slow on ${what}`).toBeLessThan(2000);
      }
      syncCounts.accepted++;
      const input = JSON.parse(new TextDecoder().decode(bytes)) as { after: Obj; limit: number };
      expect(Number.isSafeInteger(res.limit) && res.limit >= 1 && res.limit <= WIRE.maxSyncPage, `limit ${res.limit}: ${what}`).toBe(true);
      expect(res.limit).toBe(Math.min(input.limit, WIRE.maxSyncPage));
      const bad = Object.entries(res.after).filter(([peer, seq]) =>
        !PEER_RE.test(peer) || !Number.isSafeInteger(seq) || seq < 0 || !Object.hasOwn(input.after, peer) || input.after[peer] !== seq);
      expect(bad, `bad or invented after entries: ${what}`).toEqual([]);
      expect(Object.keys(res.after).length).toBe(Object.keys(input.after).length);
    };
    for (let i = 0; i < 400; i++) checkSync(randomInput(g), `sync random #${i}`);
    for (let i = 0; i < 1600; i++) {
      const req = validReq();
      const whats: string[] = [];
      let bytes: Uint8Array;
      switch (g.chance(0.05) ? 4 : g.int(4)) {
        case 0: {
          const key = g.pick([...PROTO_KEYS, '', 'l'.repeat(5), '1'.repeat(128), '1'.repeat(129), '0OIl', 'abc def', '\ud800']);
          setOwn(req.after as Obj, key, g.chance(0.5) ? g.int(10) : weirdValue(g));
          whats.push(`after key ${JSON.stringify(key)}`);
          bytes = utf8(JSON.stringify(req));
          break;
        }
        case 1: {
          req[g.pick(['limit', 'after'])] = weirdValue(g);
          whats.push('swap');
          bytes = utf8(JSON.stringify(req));
          break;
        }
        case 2: {
          (req.after as Obj)[g.chance(0.5) ? peerB : 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'] = g.pick([0, -1, 1.5, 2 ** 53, 2 ** 53 - 1, '3', null, 1e308]);
          whats.push('after seq');
          bytes = utf8(JSON.stringify(req));
          break;
        }
        case 3: {
          const m = mutateBytes(g, utf8(JSON.stringify(req)));
          whats.push(m.what);
          bytes = m.bytes;
          break;
        }
        default: {
          // A big `after` map near the 1 MiB request limit.
          const n = g.pick([1000, 20_000]);
          const after: Obj = {};
          for (let j = 0; j < n; j++) after[fakePeer(j)] = j;
          if (g.chance(0.3)) after['__proto__'] = 1;
          bytes = utf8(JSON.stringify({ after, limit: g.pick([1, 256, 1e9, 2 ** 53]) }));
          whats.push(`after map of ${n}`);
        }
      }
      checkSync(bytes, `sync #${i} [${whats.join(', ')}]`);
    }
    expectNoPollution(proto, 'sync requests');

    const ms = Date.now() - t0;
    expect(counts.malleableSig, `seed ${SEED}: a record was accepted under a second signature text`).toBe(0);
    console.log(`fuzz pure (seed ${SEED}): ${counts.inputs} record inputs, ${counts.accepted} accepted (${counts.acceptedMutants} neutral mutants, ${counts.resignedAccepted}/${counts.resigned} re-signed), drops ${JSON.stringify(reasons)}, ${counts.malleableSig} accepted with a different sig string; ${syncCounts.inputs} sync requests, ${syncCounts.accepted} parsed; ${ms} ms (random ${tRandom}, bytes ${tBytes}, objects ${tObjects})`);
    // Sanity: the fuzzer reaches both sides of every decision.
    expect(counts.inputs).toBeGreaterThanOrEqual(5000);
    expect(counts.acceptedMutants).toBeGreaterThan(0);
    expect(counts.resignedAccepted).toBeGreaterThan(0);
    for (const r of ['invalid-json', 'schema', 'signature', 'oversize', 'foreign-program', 'unsigned']) expect(reasons[r] ?? 0, r).toBeGreaterThan(0);
    expect(syncCounts.accepted).toBeGreaterThan(0);
    expect(syncCounts.accepted).toBeLessThan(syncCounts.inputs);
  }));
});

// ---------------------------------------------------------------------------------------------
// 2. Live node

type Attacker = Libp2p<{ identify: unknown; pubsub?: GossipSub }>;
async function attackerNode(key: PrivateKey, withPubsub: boolean): Promise<Attacker> {
  const base = {
    privateKey: key,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  };
  if (!withPubsub) return (await createLibp2p({ ...base, services: { identify: identify() } })) as unknown as Attacker;
  return (await createLibp2p({
    ...base,
    services: { identify: identify(), pubsub: gossipsub({ globalSignaturePolicy: 'StrictSign', allowPublishToZeroTopicPeers: true, fallbackToFloodsub: false }) },
  })) as unknown as Attacker;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const heap = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

describe('fuzz: a live node under random gossip and raw streams', () => {
  it('drops and counts garbage, delivers only valid records, stays responsive and bounded', async () => withSeed(async () => {
    const g = new Gen(SEED ^ 0x9e3779b9);
    const victim = await startNode();
    const honest = await startNode({ bootstrap: [victim.net.addresses()[0]!] });
    const victimId = peerIdFromString(victim.net.peerId);
    const victimAddr = multiaddr(victim.net.addresses()[0]!);
    const T = topics(PROGRAM);
    const P = protocols(PROGRAM);
    const allTopics = Object.values(T);
    const opened: Libp2p[] = [];
    const hanging: Stream[] = [];
    const heap0 = heap();
    const proto = protoSnapshot();
    const t0 = Date.now();
    try {
      await waitFor(() => victim.net.peers().some((p) => p.id === honest.net.peerId && p.connected), 10_000, 'honest connected');
      const honestRec = await publish(honest, resultBody(1));
      await waitFor(() => victim.received.length === 1, 10_000, 'first honest record');

      // ---- gossip ----------------------------------------------------------------------------
      // Several attacker identities: gossipsub graylists one after ~10 rejects (by design), and
      // a graylisted peer's messages never reach the validator.
      const legit = new Set<string>([canon(honestRec)]);
      let sent = 0;
      let sentValid = 0;
      const ATTACKERS = 4;
      const PER_ATTACKER = 350;
      for (let a = 0; a < ATTACKERS; a++) {
        const key = await seededKey(10 + a);
        const attacker = await attackerNode(key, true);
        opened.push(attacker);
        const pubsub = attacker.services.pubsub!;
        for (const t of allTopics) pubsub.subscribe(t);
        await attacker.dial(victimAddr);
        await waitFor(() => allTopics.every((t) => pubsub.getSubscribers(t).some((p) => p.equals(victimId))), 10_000, 'attacker sees the victim subscribed');
        const own = await baseRecords(key, 1 + a * 1000);
        const foreign = g.pick([honestRec, ...own]);
        for (let i = 0; i < PER_ATTACKER; i++) {
          let data: Uint8Array;
          let topic = g.pick(allTopics);
          const k = g.int(20);
          if (k < 4) data = randomInput(g);
          else if (k < 12) {
            let b = encodeRecord(g.pick(own));
            for (let n = g.range(1, 2); n > 0; n--) {
              try {
                b = mutateBytes(g, b).bytes;
              } catch {
                b = g.bytes(16);
              }
            }
            data = b;
          } else if (k < 16) {
            const base = g.pick(own);
            const o = clone(base) as unknown as Obj;
            mutateObject(g, o, { peer: honest.net.peerId, sig: honestRec.sig });
            data = utf8(JSON.stringify(o));
          } else if (k < 17) data = encodeRecord(foreign); // relayed on gossip: not allowed
          else if (k < 18) data = utf8(`{"x":"${'y'.repeat(g.pick([300 * 1024, 1024 * 1024, 1_900_000]))}"}`); // oversize
          else if (k < 19) {
            // A valid own record, on its own topic or on the wrong one.
            const r = g.pick(own);
            const right = T[r.type];
            topic = g.chance(0.7) ? right : g.pick(allTopics.filter((t) => t !== right));
            data = encodeRecord(r);
            sentValid++;
          } else data = utf8(POLLUTER);
          // Everything this attacker legitimately signed may be delivered (once); nothing else.
          await pubsub.publish(topic, data).catch(() => undefined);
          sent++;
        }
        for (const r of own) legit.add(canon(r));
      }
      // Wait until the drop counter settles.
      const totalDrops = (): number => Object.values(victim.net.stats().dropped).reduce((x, y) => x + y, 0);
      let last = -1;
      for (let i = 0; i < 40 && totalDrops() !== last; i++) {
        last = totalDrops();
        await sleep(250);
      }
      const gossipDrops = totalDrops();

      // ---- raw streams ----------------------------------------------------------------------
      const streamKey = await seededKey(99);
      const streamer = await attackerNode(streamKey, false);
      opened.push(streamer);
      await streamer.dial(victimAddr);
      const objBytes = utf8('print("hello")\n');
      const objHash = victim.source.addObject(objBytes);

      type Outcome = 'answered' | 'refused' | 'silent';
      const outcomes: Record<string, number> = {};
      const rawExchange = async (proto: string, payload: Uint8Array, opts: { close: boolean; hang?: boolean; expectAnswer?: 'sync' | 'fetch'; chunkSeed?: number; what?: string }): Promise<Outcome> => {
        const cg = new Gen(opts.chunkSeed ?? 1);
        const signal = AbortSignal.timeout(2_000);
        let stream: Stream;
        try {
          stream = await streamer.dialProtocol(victimId, proto, { signal });
        } catch {
          return 'refused';
        }
        const lp = lpStream(stream, { maxDataLength: WIRE.maxSyncResponseBytes + 16 });
        try {
          // Raw bytes, possibly in a few chunks.
          let off = 0;
          while (off < payload.byteLength) {
            const n = Math.min(payload.byteLength - off, cg.chance(0.5) ? payload.byteLength : cg.range(1, 64 * 1024));
            if (!stream.send(payload.subarray(off, off + n))) await stream.onDrain({ signal });
            off += n;
          }
          if (opts.hang) {
            hanging.push(stream);
            return 'silent';
          }
          if (opts.close) await stream.close({ signal });
          const res = (await lp.read({ signal: AbortSignal.timeout(opts.expectAnswer ? 5_000 : 1_000) })).subarray();
          if (opts.expectAnswer === 'sync') {
            const list = JSON.parse(new TextDecoder().decode(res)) as unknown[];
            expect(Array.isArray(list)).toBe(true);
            for (const item of list) expect((await checkRecord(item, PROGRAM)).ok).toBe(true);
          } else if (opts.expectAnswer === 'fetch') {
            expect(res[0]).toBe(FETCH_FOUND);
            expect(new TextDecoder().decode(res.subarray(1))).toBe('print("hello")\n');
          }
          return 'answered';
        } catch (err) {
          if (opts.expectAnswer) throw new Error(`a well-formed ${opts.expectAnswer} request (${opts.what ?? ''}) got no answer: ${String(err)}`);
          return signal.aborted ? 'silent' : 'refused';
        } finally {
          if (!opts.hang) stream.abort(new Error('fuzz done'));
        }
      };

      // Streams left hanging: a frame claiming nearly 1 MiB with only a little of it sent, a
      // bare partial varint, and nothing at all. They hold two of the four sync slots and three
      // of the eight fetch slots of this connection until the victim's 15 s serve timeout.
      await rawExchange(P.sync, concat(varint(WIRE.maxRequestBytes - 1), g.bytes(100)), { close: false, hang: true });
      await rawExchange(P.sync, Uint8Array.of(0x80, 0x80), { close: false, hang: true });
      await rawExchange(P.fetch, new Uint8Array(0), { close: false, hang: true });
      await rawExchange(P.fetch, varint(1000), { close: false, hang: true });
      await rawExchange(P.fetch, concat(varint(900), g.bytes(899)), { close: false, hang: true });

      const STREAMS = 160;
      const syncReq = (): Uint8Array => utf8(JSON.stringify({ after: g.chance(0.5) ? {} : { [honest.net.peerId]: g.int(3) }, limit: g.range(1, 300) }));
      const payloads = (proto: 'sync' | 'fetch'): { payload: Uint8Array; close: boolean; expectAnswer?: 'sync' | 'fetch'; what: string } => {
        const good = proto === 'sync' ? syncReq() : utf8(JSON.stringify({ hash: objHash }));
        const max = proto === 'sync' ? WIRE.maxRequestBytes : 1024;
        switch (g.int(12)) {
          case 0: return { payload: frame(good), close: g.chance(0.5), expectAnswer: proto, what: 'valid' };
          case 1: return { payload: concat(frame(good), g.bytes(g.range(1, 2000))), close: true, expectAnswer: proto, what: 'valid + trailing garbage' };
          case 2: return { payload: frame(g.bytes(g.range(0, 300))), close: g.chance(0.5), what: 'random frame' };
          case 3: return { payload: frame(mutateBytes(g, good).bytes), close: true, what: 'mutated frame' };
          case 4: return { payload: concat(varint(g.pick([max + 1, 2 ** 31, 2 ** 49])), g.bytes(64)), close: g.chance(0.5), what: 'huge length prefix' };
          case 5: return { payload: Uint8Array.from(Array.from({ length: g.range(9, 12) }, () => 0xff)), close: true, what: 'overlong varint' };
          case 6: return { payload: concat(varint(g.range(10, max)), g.bytes(g.range(0, 9))), close: true, what: 'truncated body' };
          case 7: return { payload: Uint8Array.of(0x80), close: true, what: 'truncated varint' };
          case 8: return { payload: new Uint8Array(0), close: true, what: 'empty' };
          case 9: return { payload: frame(utf8(g.pick([POLLUTER, '{"after":{"__proto__":{"x":1}},"limit":1}', '{"after":{"constructor":1,"toString":2},"limit":5}', '{"hash":"__proto__"}', `{"hash":"${objHash}","x":1}`, `{"hash":"${objHash.toUpperCase()}"}`]))), close: true, what: 'proto / edge JSON' };
          case 10: return proto === 'sync'
            ? { payload: frame(utf8(JSON.stringify({ after: Object.fromEntries(Array.from({ length: 15_000 }, (_, j) => [fakePeer(j), j])), limit: 256 }))), close: true, expectAnswer: 'sync', what: 'big after map' }
            : { payload: frame(g.bytes(1025)), close: true, what: 'fetch frame over 1 KiB' };
          default: return { payload: concat(frame(good), frame(good)), close: true, expectAnswer: proto, what: 'two frames' };
        }
      };
      // One sync and three fetch streams at a time: below the rest of the per-connection limits
      // (4 sync, 8 fetch), with slack for a just-aborted stream the victim has not yet released.
      const work = Array.from({ length: STREAMS }, (_, i) => (i % 2 === 0 ? 'sync' : 'fetch') as 'sync' | 'fetch');
      const specs = work.map((p) => ({ proto: p, ...payloads(p), chunkSeed: g.int(2 ** 32) }));
      const runLane = async (proto: 'sync' | 'fetch', lanes: number): Promise<void> => {
        const mine = specs.filter((s) => s.proto === proto);
        let next = 0;
        await Promise.all(Array.from({ length: lanes }, async () => {
          while (next < mine.length) {
            const s = mine[next++]!;
            const o = await rawExchange(proto === 'sync' ? P.sync : P.fetch, s.payload, { close: s.close, chunkSeed: s.chunkSeed, what: s.what, ...(s.expectAnswer ? { expectAnswer: s.expectAnswer } : {}) });
            outcomes[`${proto} ${s.what}: ${o}`] = (outcomes[`${proto} ${s.what}: ${o}`] ?? 0) + 1;
          }
        }));
      };
      await Promise.all([runLane('sync', 1), runLane('fetch', 3)]);

      // ---- the victim still works -----------------------------------------------------------
      // Honest gossip still arrives.
      const next = await publish(honest, bestBody(7));
      await waitFor(() => victim.received.some((x) => x.r.sig === next.sig), 10_000, 'honest gossip after the attack');
      // Honest sync works both ways: the victim serves a record it holds from a third origin.
      const far = (await baseRecords(await seededKey(98), 1))[4]!;
      victim.source.add(far);
      expect(await honest.net.syncFrom(victim.net.peerId, {})).toBeGreaterThanOrEqual(1);
      expect(honest.received.some((x) => x.r.sig === far.sig)).toBe(true);
      expect(await victim.net.syncFrom(honest.net.peerId, {})).toBeGreaterThanOrEqual(0);
      // A fetch still works (on the honest connection).
      const fetched = await honest.net.fetchObject(objHash, [victim.net.peerId]);
      expect(fetched && new TextDecoder().decode(fetched)).toBe('print("hello")\n');

      // ---- nothing invalid was delivered ----------------------------------------------------
      for (const { r, from } of victim.received) {
        expect((await checkRecord(clone(r), PROGRAM)).ok, 'delivered record re-checks').toBe(true);
        expect(legit.has(canon(r)) || r.peer === honest.net.peerId || canon(r) === canon(far), `unexpected record delivered: ${JSON.stringify(r).slice(0, 300)}`).toBe(true);
        // Gossip only from the origin; relays only via sync from the honest node.
        expect(from === r.peer || from === honest.net.peerId).toBe(true);
      }
      const delivered = victim.received.filter((x) => x.r.peer !== honest.net.peerId && canon(x.r) !== canon(far));
      // Each of the attackers' own signed records at most once (dedup by origin and seq).
      const origins = delivered.map((x) => `${x.r.peer}/${x.r.seq}`);
      expect(new Set(origins).size, 'a record delivered twice').toBe(origins.length);
      expect(delivered.length).toBeLessThanOrEqual(legit.size - 1);
      expect(honest.received.every((x) => legit.has(canon(x.r)) || canon(x.r) === canon(far))).toBe(true);

      // ---- drops were counted; memory stayed bounded ----------------------------------------
      const { dropped } = victim.net.stats();
      expect(Object.keys(dropped).sort()).toEqual([...DROP_REASONS].sort());
      for (const n of Object.values(dropped)) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
      expect(gossipDrops, 'gossip drops counted').toBeGreaterThanOrEqual(ATTACKERS * 8);
      expect(gossipDrops).toBeLessThanOrEqual(sent);
      expect(dropped['invalid-json'] + dropped.schema + dropped.signature).toBeGreaterThan(0);
      expectNoPollution(proto, 'live');
      const growth = heap() - heap0;
      console.log(`fuzz live (seed ${SEED}): ${sent} gossip messages from ${ATTACKERS} attackers (${sentValid} valid own records), drops ${JSON.stringify(dropped)}; ${STREAMS + 5} raw streams ${JSON.stringify(outcomes)}; heap growth ${(growth / 1e6).toFixed(1)} MB; ${Date.now() - t0} ms`);
      expect(growth).toBeLessThan(150 * 1024 * 1024);
    } finally {
      for (const s of hanging) s.abort(new Error('fuzz done'));
      await Promise.all(opened.map(async (n) => { try { await n.stop(); } catch { /* already stopping */ } }));
      await victim.net.stop();
      await honest.net.stop();
    }
  }));
});
