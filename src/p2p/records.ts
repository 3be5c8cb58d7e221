/**
 * Swarm records: the signed JSON statements peers exchange (see docs/protocol.md).
 *
 * Every record is self-verifying: it names its origin peer (an Ed25519 peer id, which embeds the
 * public key) and carries that peer's signature over its canonical JSON. Any peer may therefore
 * relay any record (during sync) and every receiver can still check it against its origin.
 *
 * Everything here is pure (no I/O) so tests and the fuzzer can drive it directly.
 */
import { createHash } from 'node:crypto';
import { peerIdFromString } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { DATASETS, METRIC_KEYS, type Dataset, type Hardware, type Metrics, type NoiseFloor } from '../core/types.js';
import { replicationVerdict, type ReplicationVerdict } from '../trust/index.js';
import { canonicalJson } from './canonical.js';
import { isReasonCode, type ReasonCode } from './reasons.js';

// ---------------------------------------------------------------------------------------------
// Limits

export const LIMITS = {
  /** Largest gossip message / single encoded record, bytes. */
  messageBytes: 256 * 1024,
  /** Largest inline unified diff, UTF-8 bytes. */
  diffBytes: 64 * 1024,
  /** Largest hypothesis, Unicode code points. */
  hypothesisChars: 500,
  /** Largest accelerator name, code points (a hardware class adds `<count>× ` to it). */
  nameChars: 128,
  /** Default bound for short strings (ids, names, versions), code points. */
  shortChars: 256,
  /** Largest program id, hex characters. */
  programChars: 128,
  /** Largest lineage array. */
  lineageItems: 4096,
  /** Longest a claim may last past its `time`. */
  claimMaxMs: 7 * 24 * 3600 * 1000,
  /** Most seeded runs in one noise floor. */
  noiseRuns: 64,
  /** Largest training budget, seconds. */
  budgetSeconds: 7 * 24 * 3600,
} as const;

// ---------------------------------------------------------------------------------------------
// Types

export type ResultStatus = 'keep' | 'discard' | 'crash';
export const RESULT_STATUSES: readonly ResultStatus[] = ['keep', 'discard', 'crash'];
export type ResultOutcome = 'ok' | 'crash' | 'timeout';
export const RESULT_OUTCOMES: readonly ResultOutcome[] = ['ok', 'crash', 'timeout'];

/** One finished run (kept, discarded or crashed). Invalid proposals are never shared. */
export interface ResultBody {
  type: 'result';
  /** The experiment's globally unique id (ExperimentRecord.id). */
  experiment: string;
  /** sha256 hex of the parent train.py. */
  parentHash: string;
  /** sha256 hex of the candidate train.py; null if it never existed as a file. */
  hash: string | null;
  /** sha256 hex of the unified diff's UTF-8 bytes (parent → candidate). */
  diffHash: string;
  /** The diff itself, inline, when the origin chooses to share it (≤ 64 KiB). Must hash to diffHash. */
  diff: string | null;
  /** Caller-computed identity of "the same idea" (dedup key across the swarm). */
  fingerprint: string;
  status: ResultStatus;
  hypothesis: string;
  /** e.g. "mutate", "claude:claude-sonnet-4-5". */
  proposer: string;
  outcome: ResultOutcome | null;
  /** Why it crashed or was discarded: a code from a fixed table (./reasons.ts), never the run's own text. */
  reason: ReasonCode | null;
  metrics: Metrics | null;
  hardware: Hardware | null;
  dataset: Dataset;
  budgetSeconds: number;
  startedAt: string;
  endedAt: string;
  /** Experiment ids / hashes this train.py descends from (may be empty). */
  lineage: string[];
  /** Present (true) on a row of another autoresearch run brought in by `swarm import`: measured there, not by this program. */
  imported?: true;
  /** Present (always true) when a foreign harness ran it: metrics.val_bpb is what the run printed, not a measurement. */
  selfReported?: true;
}

/** "I am running candidate <fingerprint>" until `expires`. */
export interface ClaimBody {
  type: 'claim';
  experiment: string;
  fingerprint: string;
  parentHash: string;
  hash: string | null;
  hypothesis: string;
  /** Accelerator name of the claiming box. */
  hardware: string;
  expires: string;
}

/** A node's new best train.py. */
export interface BestBody {
  type: 'best';
  hash: string;
  val_bpb: number;
  experiment: string;
  hardware: string;
  lineage: string[];
}

/** A node's noise floor (see NoiseFloor): its best re-run with several seeds; σ sets its keep margin and replication tolerance. */
export type NoiseBody = { type: 'noise' } & Pick<NoiseFloor, 'hash' | 'seeds' | 'values' | 'sigma' | 'k' | 'hardware'>;

/** A replication: this node re-ran another peer's result by hash and reports what it measured. */
export interface VerifyBody {
  type: 'verify';
  /** The peer whose result was re-run (never the signer). */
  claimant: string;
  experiment: string;
  /** sha256 hex of the train.py re-run (the claimed result's hash). */
  hash: string;
  /** The claimed val_bpb. */
  claimed: number;
  /** What the re-run measured; null when it crashed or timed out. */
  val_bpb: number | null;
  outcome: ResultOutcome;
  /** The largest excess over the claim that still confirms it. */
  tolerance: number;
  /** confirm when val_bpb ≤ claimed + tolerance, dispute otherwise (receivers check this). */
  verdict: ReplicationVerdict;
  hardware: Hardware | null;
}

export type RecordBody = ResultBody | ClaimBody | BestBody | NoiseBody | VerifyBody;
export type RecordType = RecordBody['type'];
export const RECORD_TYPES: readonly RecordType[] = ['result', 'claim', 'best', 'noise', 'verify'];

/** What a caller hands to `publish`: the body; the node adds the envelope and signs. */
export type UnsignedRecord = RecordBody;

export interface Envelope {
  v: 1;
  program: string;
  /** Origin peer id (base58btc, Ed25519). */
  peer: string;
  /** Origin's counter, 1, 2, 3, … over all its records. */
  seq: number;
  /** When the origin signed it (ISO 8601, UTC, `Z`). */
  time: string;
  /** base64 Ed25519 signature over canonicalJson(record without sig). */
  sig: string;
}

type WithEnvelope<B> = B extends RecordBody ? B & Envelope : never;
export type SignedRecord = WithEnvelope<RecordBody>;
export type SignedResult = ResultBody & Envelope;
export type SignedClaim = ClaimBody & Envelope;
export type SignedBest = BestBody & Envelope;
export type SignedNoise = NoiseBody & Envelope;
export type SignedVerify = VerifyBody & Envelope;
/** A record ready to be signed. */
export type DraftRecord = SignedRecord extends infer R ? (R extends SignedRecord ? Omit<R, 'sig'> : never) : never;

export type DropReason = 'invalid-json' | 'schema' | 'signature' | 'oversize' | 'foreign-program' | 'unsigned';
export const DROP_REASONS: readonly DropReason[] = ['invalid-json', 'schema', 'signature', 'oversize', 'foreign-program', 'unsigned'];

export type Validation =
  | { ok: true; record: SignedRecord }
  | { ok: false; reason: DropReason; error: string };

// ---------------------------------------------------------------------------------------------
// Schema

type Check = (v: unknown) => string | null;

const HEX64 = /^[0-9a-f]{64}$/;
const PROGRAM = /^[0-9a-f]+$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
// 64 bytes, standard base64, padded; the last character carries 2 bits, so only A, Q, g, w are canonical
// (other letters decode to the same bytes, and one record must have exactly one signature text).
const SIG = /^[A-Za-z0-9+/]{85}[AQgw]==$/;
const PEER = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/; // base58btc alphabet

// Identifiers and names from peers end up in file names, log lines, terminal output and LLM prompts,
// so each is held to the shape honest nodes produce (see docs/protocol.md §3.1), never "any string".
/** An experiment id as newId() (src/loop/ids.ts) makes it: milliseconds in base 36, `-`, 8 random hex. */
export const EXPERIMENT_ID = /^[0-9a-z]{9,12}-[0-9a-f]{8}$/;
/** A result's fingerprint (sha256 hex), or a replication claim's `verify:<peer>/<experiment>`. */
export const FINGERPRINT = new RegExp(`^(?:[0-9a-f]{64}|verify:${PEER.source.slice(1, -1)}/${EXPERIMENT_ID.source.slice(1, -1)})$`);
/** A display name (accelerator, hardware class, proposer): letters, marks, digits, punctuation, symbols and plain spaces. */
export const NAME = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;
/** A version string (torch, CUDA, Python). */
export const VERSION = /^[0-9A-Za-z.+_-]{1,64}$/;
/** What free text (a hypothesis, one line) must not hold: control characters (newlines too), bidi overrides, BOM, lone surrogates. */
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\p{Cs}]/u;

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const str = (max: number, min = 0): Check => (v) => {
  if (typeof v !== 'string') return 'expected a string';
  const n = codePoints(v);
  if (n < min) return `shorter than ${min}`;
  if (n > max) return `longer than ${max} characters`;
  return null;
};
const pattern = (re: RegExp, what: string): Check => (v) =>
  typeof v === 'string' && re.test(v) ? null : `expected ${what}`;
/**
 * Nanoseconds since 1970 of a record time (docs/protocol.md §3.1), or undefined when `s` is not one:
 * exactly `YYYY-MM-DDTHH:MM:SS(.1-9 digits)?Z`, and a real instant. Date.parse rolls impossible
 * components over (`2026-02-30` reads as March 2, `24:00:00` as the next day), so the components
 * are set one by one and must read back unchanged: that refuses day 0, Feb 29 outside leap years,
 * hour 24, minute or second 60 (no leap seconds), month 0 or 13.
 */
export function parseIsoTime(s: string): bigint | undefined {
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which maps years 0-99 to 1900-1999
  t.setUTCHours(h, mi, sec, 0);
  const back = [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds()];
  if (back.some((x, i) => x !== [y, mo, d, h, mi, sec][i])) return undefined;
  return BigInt(t.getTime()) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

const iso: Check = (v) => {
  if (typeof v !== 'string' || !ISO.test(v)) return 'expected an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SS(.fraction)?Z)';
  return parseIsoTime(v) === undefined ? 'not a real date and time' : null;
};
const hex64 = pattern(HEX64, 'a sha256 hex digest (64 lowercase hex)');
const num = (min: number, max: number): Check => (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : `expected a finite number in [${min}, ${max}]`;
const int = (min: number, max: number): Check => (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? null : `expected an integer in [${min}, ${max}]`;
const oneOf = (values: readonly unknown[]): Check => (v) =>
  values.includes(v) ? null : `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
const nullable = (c: Check): Check => (v) => (v === null ? null : c(v));
const literal = (x: unknown): Check => (v) => (v === x ? null : `expected ${JSON.stringify(x)}`);
const array = (item: Check, maxItems: number): Check => (v) => {
  if (!Array.isArray(v)) return 'expected an array';
  if (v.length > maxItems) return `more than ${maxItems} items`;
  for (let i = 0; i < v.length; i++) {
    const e = item(v[i]);
    if (e) return `[${i}]: ${e}`;
  }
  return null;
};
const object = (spec: Record<string, Check>): Check => (v) => checkObject(v, spec);
/** Checks of fields that may be absent (a field added after v1; absent reads as before). */
const OPTIONAL = new WeakSet<Check>();
const optional = (c: Check): Check => {
  const check: Check = (v) => c(v);
  OPTIONAL.add(check);
  return check;
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkObject(v: unknown, spec: Record<string, Check>): string | null {
  if (!isPlainObject(v)) return 'expected an object';
  for (const key of Object.keys(v)) {
    if (!Object.hasOwn(spec, key)) return `unknown field ${JSON.stringify(key)}`;
  }
  for (const [key, check] of Object.entries(spec)) {
    if (!Object.hasOwn(v, key)) {
      if (OPTIONAL.has(check)) continue;
      return `missing field ${JSON.stringify(key)}`;
    }
    const e = check(v[key]);
    if (e) return `${key}: ${e}`;
  }
  return null;
}

const text = (max: number): Check => (v) => str(max)(v) ?? (UNSAFE_TEXT.test(v as string) ? 'holds control or bidi characters' : null);
const name = (max: number): Check => (v) => str(max)(v) ?? pattern(NAME, 'a printable name (no control characters)')(v);
const version = pattern(VERSION, 'a version string ([0-9A-Za-z.+_-], 1-64 chars)');
const reason: Check = (v) => (isReasonCode(v) ? null : 'expected a reason code (docs/protocol.md §3.3)');

const metricsSpec: Record<string, Check> = Object.fromEntries(METRIC_KEYS.map((k) => [k, num(-1e15, 1e15)]));
const hardwareSpec: Record<string, Check> = {
  device: oneOf(['cuda', 'mps', 'cpu']),
  name: name(LIMITS.nameChars),
  count: int(0, 1_000_000),
  memoryGb: num(0, 1e9),
  torch: version,
  cuda: nullable(version),
  python: version,
};

const ENVELOPE: Record<string, Check> = {
  v: literal(1),
  type: oneOf(RECORD_TYPES),
  program: (v) => str(LIMITS.programChars, 1)(v) ?? pattern(PROGRAM, 'lowercase hex')(v),
  peer: pattern(PEER, 'a base58btc peer id'),
  seq: int(1, Number.MAX_SAFE_INTEGER),
  time: iso,
  sig: pattern(SIG, 'a base64 Ed25519 signature (88 chars)'),
};
const id = pattern(EXPERIMENT_ID, 'an experiment id (<9-12 of 0-9a-z>-<8 hex>)');
const fingerprintCheck = pattern(FINGERPRINT, 'a fingerprint (sha256 hex, or verify:<peer>/<experiment>)');
const lineage = array(id, LIMITS.lineageItems);
const hardwareClass = (v: unknown) => name(LIMITS.nameChars + 16)(v);

const BODIES: Record<RecordType, Record<string, Check>> = {
  result: {
    experiment: id,
    parentHash: hex64,
    hash: nullable(hex64),
    diffHash: hex64,
    diff: nullable((v) => (typeof v === 'string' && Buffer.byteLength(v, 'utf8') <= LIMITS.diffBytes ? null : `expected a string of at most ${LIMITS.diffBytes} UTF-8 bytes`)),
    fingerprint: fingerprintCheck,
    status: oneOf(RESULT_STATUSES),
    hypothesis: text(LIMITS.hypothesisChars),
    proposer: name(LIMITS.shortChars),
    outcome: nullable(oneOf(RESULT_OUTCOMES)),
    reason: nullable(reason),
    metrics: nullable(object(metricsSpec)),
    hardware: nullable(object(hardwareSpec)),
    dataset: oneOf(DATASETS),
    budgetSeconds: num(Number.MIN_VALUE, LIMITS.budgetSeconds),
    startedAt: iso,
    endedAt: iso,
    lineage,
    imported: optional(literal(true)),
    selfReported: optional(literal(true)),
  },
  claim: {
    experiment: id,
    fingerprint: fingerprintCheck,
    parentHash: hex64,
    hash: nullable(hex64),
    hypothesis: text(LIMITS.hypothesisChars),
    hardware: hardwareClass,
    expires: iso,
  },
  best: {
    hash: hex64,
    val_bpb: num(Number.MIN_VALUE, 1e6),
    experiment: id,
    hardware: hardwareClass,
    lineage,
  },
  noise: {
    hash: hex64,
    seeds: array(int(0, Number.MAX_SAFE_INTEGER), LIMITS.noiseRuns),
    values: array(num(0, 1e6), LIMITS.noiseRuns),
    sigma: nullable(num(0, 1e6)),
    k: num(0, 1e3),
    hardware: nullable(object(hardwareSpec)),
  },
  verify: {
    claimant: pattern(PEER, 'a base58btc peer id'),
    experiment: id,
    hash: hex64,
    claimed: num(0, 1e6),
    val_bpb: nullable(num(0, 1e6)),
    outcome: oneOf(RESULT_OUTCOMES),
    tolerance: num(0, 1e6),
    verdict: oneOf(['confirm', 'dispute']),
    hardware: nullable(object(hardwareSpec)),
  },
};

/** Cross-field rules that a per-field schema cannot say. */
function semantic(r: SignedRecord): string | null {
  if (r.type === 'result') {
    if (r.diff !== null) {
      const h = sha256Hex(new TextEncoder().encode(r.diff));
      if (h !== r.diffHash) return 'diff does not hash to diffHash';
    }
    if (r.status === 'keep' && r.metrics === null) return 'a kept result needs metrics';
  }
  if (r.type === 'noise' && r.values.length > r.seeds.length) return 'more values than seeds';
  if (r.type === 'verify') {
    if (r.claimant === r.peer) return 'a peer cannot verify its own result';
    if (r.verdict !== replicationVerdict(r.claimed, r.val_bpb, r.tolerance)) return 'verdict does not follow from claimed, val_bpb and tolerance';
  }
  if (r.type === 'claim') {
    // Compared in nanoseconds: both carry up to 9 fraction digits, and `expires` 1 µs after `time` is after it.
    const t = parseIsoTime(r.time)!;
    const e = parseIsoTime(r.expires)!;
    if (e <= t) return 'expires must be after time';
    if (e - t > BigInt(LIMITS.claimMaxMs) * 1_000_000n) return 'claim lasts too long';
  }
  return null;
}

/**
 * Checks that `value` (a parsed JSON value) is a well-formed signed record of `program`
 * (when given). Schema only: the signature is checked by verifyRecord.
 */
export function validateRecord(value: unknown, program?: string): Validation {
  if (!isPlainObject(value)) return { ok: false, reason: 'schema', error: 'not a JSON object' };
  if (!Object.hasOwn(value, 'sig')) return { ok: false, reason: 'unsigned', error: 'no sig field' };
  if (program !== undefined && typeof value.program === 'string' && value.program !== program) {
    return { ok: false, reason: 'foreign-program', error: `program ${value.program.slice(0, 80)} is not ${program}` };
  }
  const type = value.type;
  if (typeof type !== 'string' || !(RECORD_TYPES as readonly string[]).includes(type)) {
    return { ok: false, reason: 'schema', error: `unknown type ${JSON.stringify(type)?.slice(0, 80)}` };
  }
  const e = checkObject(value, { ...ENVELOPE, ...BODIES[type as RecordType] }) ?? semantic(value as unknown as SignedRecord);
  if (e) return { ok: false, reason: 'schema', error: e };
  return { ok: true, record: value as unknown as SignedRecord };
}

// ---------------------------------------------------------------------------------------------
// Signing

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The exact bytes a signature covers: canonical JSON of the record without `sig`, UTF-8. */
export function signingBytes(record: DraftRecord | SignedRecord): Uint8Array {
  const { sig: _sig, ...rest } = record as DraftRecord & { sig?: string };
  return new TextEncoder().encode(canonicalJson(rest));
}

/** Signs a draft with the origin's Ed25519 key. `draft.peer` must be that key's peer id. */
export async function signRecord(draft: DraftRecord, key: PrivateKey): Promise<SignedRecord> {
  if (key.type !== 'Ed25519') throw new TypeError('records are signed with Ed25519 keys only');
  const sig = await key.sign(signingBytes(draft));
  return { ...draft, sig: Buffer.from(sig).toString('base64') } as SignedRecord;
}

/**
 * True when `record.sig` is a valid Ed25519 signature by the key embedded in `record.peer`.
 * Never throws: malformed peer ids and signatures are simply false.
 */
export async function verifyRecord(record: SignedRecord): Promise<boolean> {
  try {
    if (typeof record.sig !== 'string' || !SIG.test(record.sig)) return false;
    const peerId = peerIdFromString(record.peer);
    if (peerId.type !== 'Ed25519') return false;
    const pub = peerId.publicKey;
    const sig = new Uint8Array(Buffer.from(record.sig, 'base64'));
    return await pub.verify(signingBytes(record), sig);
  } catch {
    return false;
  }
}

/**
 * The full receive path for one encoded record: size, UTF-8 JSON, schema, program, signature.
 * Never throws.
 */
export async function decodeRecord(bytes: Uint8Array, program: string): Promise<Validation> {
  if (bytes.byteLength > LIMITS.messageBytes) {
    return { ok: false, reason: 'oversize', error: `${bytes.byteLength} bytes > ${LIMITS.messageBytes}` };
  }
  let value: unknown;
  try {
    // ignoreBOM keeps a leading U+FEFF in the text, so JSON.parse refuses it: records carry no BOM (§3.1).
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch (err) {
    return { ok: false, reason: 'invalid-json', error: err instanceof Error ? err.message : String(err) };
  }
  // The size rule of gossip is on the bytes received (checked above), not on a re-serialisation.
  return checkParsed(value, program, false);
}

/** validateRecord + verifyRecord on an already parsed value (a sync item). Never throws. */
export async function checkRecord(value: unknown, program: string): Promise<Validation> {
  return checkParsed(value, program, true);
}

async function checkParsed(value: unknown, program: string, measure: boolean): Promise<Validation> {
  let v: Validation;
  try {
    v = validateRecord(value, program);
  } catch (err) {
    return { ok: false, reason: 'schema', error: err instanceof Error ? err.message : String(err) };
  }
  if (!v.ok) return v;
  const size = measure ? Buffer.byteLength(JSON.stringify(v.record), 'utf8') : 0;
  if (size > LIMITS.messageBytes) return { ok: false, reason: 'oversize', error: `${size} bytes > ${LIMITS.messageBytes}` };
  if (!(await verifyRecord(v.record))) return { ok: false, reason: 'signature', error: `bad signature for origin ${v.record.peer}` };
  return v;
}

/** UTF-8 JSON bytes of a record, as sent on the wire. */
export function encodeRecord(record: SignedRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}

/** `s` made valid for a free-text field: line breaks and tabs become spaces, other characters UNSAFE_TEXT refuses are dropped, cut to `max` code points. */
export function safeText(s: string, max: number): string {
  const kept = [...s.replace(/[\t\n\r\v\f]+/g, ' ')].filter((c) => !UNSAFE_TEXT.test(c));
  return kept.slice(0, max).join('');
}

/** `s` made valid for a name field: anything NAME refuses becomes a space, cut to `max` code points. */
export function safeName(s: string, max: number): string {
  return [...s].map((c) => (NAME.test(c) ? c : ' ')).slice(0, max).join('');
}
