/**
 * The MUSTs of docs/protocol.md held against the code, one test per rule the audit for issue 11
 * found broken: impossible dates, a BOM before a record, a claim's sub-millisecond expiry, and the
 * gossip size rule measured on the bytes received.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import {
  LIMITS, checkRecord, decodeRecord, encodeRecord, parseIsoTime, signRecord, validateRecord, type DraftRecord, type SignedRecord,
} from '../../src/p2p/index.js';
import { PROGRAM, claimBody, resultBody, sha } from './helpers.js';

const key = await generateKeyPair('Ed25519');
const peer = peerIdFromPrivateKey(key).toString();
const signed = (body: object, over: Record<string, unknown> = {}): Promise<SignedRecord> =>
  signRecord({ ...body, v: 1, program: PROGRAM, peer, seq: 1, time: '2025-06-01T12:00:00.000Z', ...over } as DraftRecord, key);
const reasonOf = async (bytes: Uint8Array): Promise<string> => {
  const v = await decodeRecord(bytes, PROGRAM);
  return v.ok ? 'ok' : `${v.reason}: ${v.error}`;
};

describe('record times (§3.1: a real date, exact form)', () => {
  const impossible = [
    '2026-02-30T00:00:00Z', // Date.parse reads March 2
    '2025-02-29T00:00:00Z', // not a leap year
    '1900-02-29T00:00:00Z', // divisible by 100, not by 400
    '2100-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-01-01T24:00:00Z', // Date.parse reads the next day
    '2026-01-01T23:60:00Z',
    '2016-12-31T23:59:60Z', // a leap second: not representable, refused
    '2026-00-10T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-32T00:00:00Z',
  ];
  const malformed = [
    '2026-01-01T00:00:00', '2026-01-01T00:00:00z', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00+00:00',
    '2026-1-01T00:00:00Z', '+02026-01-01T00:00:00Z', '2026-01-01T00:00:00.Z', '2026-01-01T00:00:00.1234567890Z',
    '2026-01-01T00:00Z', '２026-01-01T00:00:00Z', '2026-01-01T00:00:00Z\n',
  ];

  it('parses real instants to nanoseconds and refuses impossible or malformed ones', () => {
    expect(parseIsoTime('1970-01-01T00:00:00Z')).toBe(0n);
    expect(parseIsoTime('1970-01-01T00:00:00.000000001Z')).toBe(1n);
    expect(parseIsoTime('2024-02-29T23:59:59.5Z')).toBe(BigInt(Date.parse('2024-02-29T23:59:59.500Z')) * 1_000_000n);
    expect(parseIsoTime('2000-02-29T00:00:00Z')).toBe(BigInt(Date.parse('2000-02-29T00:00:00Z')) * 1_000_000n);
    expect(parseIsoTime('0000-01-01T00:00:00Z')).toBe(BigInt(Date.parse('0000-01-01T00:00:00Z')) * 1_000_000n);
    expect(parseIsoTime('0099-12-31T00:00:00Z')).toBe(BigInt(Date.parse('0099-12-31T00:00:00Z')) * 1_000_000n);
    expect(parseIsoTime('9999-12-31T23:59:59.999999999Z')).toBeDefined();
    for (const s of [...impossible, ...malformed]) expect([s, parseIsoTime(s)]).toEqual([s, undefined]);
  });

  it('drops a correctly signed record whose time, startedAt, endedAt or expires is impossible', async () => {
    expect(await reasonOf(encodeRecord(await signed(resultBody(1))))).toBe('ok');
    expect(await reasonOf(encodeRecord(await signed(resultBody(1), { time: '2024-02-29T10:00:00Z' })))).toBe('ok');
    for (const bad of impossible) {
      // Signed by its origin, so only the date can be what is refused.
      const cases: [string, SignedRecord][] = [
        ['time', await signed(resultBody(1), { time: bad })],
        ['startedAt', await signed(resultBody(1, { startedAt: bad }))],
        ['endedAt', await signed(resultBody(1, { endedAt: bad }))],
        ['expires', await signed({ ...claimBody(1), expires: bad }, { time: '2016-12-31T00:00:00Z' })],
      ];
      for (const [field, r] of cases) {
        expect([bad, field, await reasonOf(encodeRecord(r))]).toEqual([bad, field, `schema: ${field}: not a real date and time`]);
      }
    }
  });
});

describe('the rest of the audit', () => {
  it('refuses a record preceded by a byte order mark (§3.1: UTF-8, no BOM)', async () => {
    const bytes = encodeRecord(await signed(resultBody(1)));
    const withBom = new Uint8Array(bytes.byteLength + 3);
    withBom.set([0xef, 0xbb, 0xbf]);
    withBom.set(bytes, 3);
    expect(await reasonOf(withBom)).toMatch(/^invalid-json/);
  });

  it('compares a claim\'s expires with its time at full precision (§3.4: MUST be after time)', async () => {
    const time = { time: '2025-01-01T00:00:00.0000001Z' };
    const check = async (expires: string): Promise<boolean> => validateRecord(JSON.parse(JSON.stringify(await signed({ ...claimBody(1), expires }, time))), PROGRAM).ok;
    expect(await check('2025-01-01T00:00:00.0000002Z')).toBe(true); // 100 ns later: after, though the same millisecond
    expect(await check('2025-01-01T00:00:00.00000010Z')).toBe(false); // the same instant written longer
    expect(await check('2025-01-01T00:00:00Z')).toBe(false);
    expect(await check('2025-01-08T00:00:00.0000001Z')).toBe(true); // exactly 7 days
    expect(await check('2025-01-08T00:00:00.0000002Z')).toBe(false);
  });

  it('measures a gossip record on the bytes received, a sync record on JSON.stringify (§3.1)', async () => {
    // Numbers written 1e14 on the wire take 11 more bytes each once re-serialised (100000000000000).
    const big = 1e14;
    const metrics = { val_bpb: big, training_seconds: big, total_seconds: big, peak_vram_mb: big, mfu_percent: big, total_tokens_M: big, num_steps: big, num_params_M: big, depth: big };
    const make = async (n: number): Promise<SignedRecord> => {
      const diff = '\u0001'.repeat(n); // 6 bytes each in JSON
      return signed(resultBody(1, { diff, diffHash: sha(diff), metrics }));
    };
    const base = JSON.stringify(await make(0)).length;
    const r = await make(Math.ceil((LIMITS.messageBytes + 40 - base) / 6));
    const stringified = JSON.stringify(r);
    expect(stringified.length).toBeGreaterThan(LIMITS.messageBytes);
    const wire = stringified.replaceAll('100000000000000', '1e14');
    expect(wire.length).toBeLessThanOrEqual(LIMITS.messageBytes);
    expect(await reasonOf(new TextEncoder().encode(wire))).toBe('ok');
    expect(await checkRecord(JSON.parse(wire), PROGRAM)).toMatchObject({ ok: false, reason: 'oversize' });
  });
});
