import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import { diskError, StoreError, type ExperimentRecord, type NoiseFloor } from '../core/index.js';
import { parseRecord } from './record.js';

/** Everything a node knows, kept in LevelDB so that no finished record is ever lost. */
export interface Store {
  readonly dir: string;
  /** Writes (or overwrites) a record durably: fsync'd before the promise resolves. */
  put(record: ExperimentRecord): Promise<void>;
  get(id: string): Promise<ExperimentRecord | undefined>;
  /** Every record, oldest first (by this node's sequence number). */
  list(): Promise<ExperimentRecord[]>;
  /** Keeps a signed swarm record (already verified by the caller); false when it was already here. */
  putShared(record: SharedRecord): Promise<boolean>;
  /** putShared for many at once, with one fsync; per record, whether it was new (the first of equal keys wins). */
  putSharedMany(records: readonly SharedRecord[]): Promise<boolean[]>;
  /** Swarm records, per origin peer in seq order; only those after `after[peer]` when given. */
  shared(after?: Record<string, number>, limit?: number): Promise<SharedRecord[]>;
  /** Per origin, the highest seq s such that every swarm record 1..s of that origin is here. */
  sharedKnown(): Promise<Record<string, number>>;
  /** Content-addressed bytes (train.py versions, diffs), keyed by their sha256 hex. */
  putObject(hash: string, bytes: Uint8Array): Promise<void>;
  getObject(hash: string): Promise<Uint8Array | undefined>;
  /** Keeps a noise floor measurement durably. */
  putNoise(floor: NoiseFloor): Promise<void>;
  /** Every noise floor measured here, oldest first. */
  noiseFloors(): Promise<NoiseFloor[]>;
  close(): Promise<void>;
}

/** A swarm record as the store sees it: opaque JSON, addressed by its origin peer and that peer's counter. */
export interface SharedRecord {
  peer: string;
  seq: number;
  [field: string]: unknown;
}

// Keys: `exp!<id>` holds the record as JSON; `seq!<12-digit seq>` maps the sequence number to the id;
// `shr!<peer>!<12-digit seq>` holds a signed swarm record; `obj!<sha256>` holds content-addressed bytes (base64);
// `nse!<12-digit n>` holds noise floor n.
const EXP = 'exp!';
const SEQ = 'seq!';
const SHR = 'shr!';
const OBJ = 'obj!';
const NSE = 'nse!';
const seqKey = (seq: number) => `${SEQ}${String(seq).padStart(12, '0')}`;
const shrKey = (peer: string, seq: number) => `${SHR}${peer}!${String(seq).padStart(12, '0')}`;
/** The origin and seq of a `shr!` key. */
function shrParts(key: string): { peer: string; seq: number } {
  const bang = key.lastIndexOf('!');
  return { peer: key.slice(SHR.length, bang), seq: Number(key.slice(bang + 1)) };
}

export async function openStore(dir: string): Promise<Store> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw diskError(StoreError, err, dir, 'create the store folder') ?? new StoreError(`cannot create the store folder ${dir}: ${(err as Error).message}`, {
      hint: 'choose a writable state folder with --state DIR', cause: err,
    });
  }
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  try {
    await db.open();
  } catch (err) {
    throw openError(dir, err);
  }
  let failed: StoreError | null = null;

  /** One batch, one fsync; a key already stored (or earlier in the batch) is never overwritten: the first version wins. */
  async function putSharedMany(records: readonly SharedRecord[]): Promise<boolean[]> {
    const keys = records.map((r) => shrKey(r.peer, r.seq));
    const stored = await db.getMany(keys);
    const fresh = new Set<string>();
    const isNew = keys.map((key, i) => {
      if (stored[i] !== undefined || fresh.has(key)) return false;
      fresh.add(key);
      return true;
    });
    if (fresh.size === 0) return isNew;
    const ops = records.flatMap((r, i) => (isNew[i] ? [{ type: 'put' as const, key: keys[i]!, value: JSON.stringify(r) }] : []));
    const what = ops.length === 1 ? `a swarm record from ${records[isNew.indexOf(true)]!.peer}` : `${ops.length} swarm records`;
    await write(() => db.batch(ops, { sync: true }), what);
    return isNew;
  }

  return {
    dir,
    async put(record) {
      await write(() => db.batch([
        { type: 'put', key: EXP + record.id, value: JSON.stringify(record) },
        { type: 'put', key: seqKey(record.seq), value: record.id },
      ], { sync: true }), `experiment ${record.seq}`);
    },
    async get(id) {
      const raw = await db.get(EXP + id);
      return raw === undefined ? undefined : parseRecord(raw, `${dir} ${id}`);
    },
    async list() {
      const ids = await db.values({ gte: SEQ, lt: SEQ + '~' }).all();
      const raws = await db.getMany(ids.map((id) => EXP + id));
      return raws.flatMap((raw, i) => (raw === undefined ? [] : [parseRecord(raw, `${dir} ${ids[i]}`)]));
    },
    async putShared(record) {
      return (await putSharedMany([record]))[0]!;
    },
    putSharedMany,
    async shared(after = {}, limit = Infinity) {
      const out: SharedRecord[] = [];
      // Keys sort by origin, then seq: one seek skips an origin's records up to after[origin], so a
      // sync page costs the page, not a read and parse of the whole store.
      const it = db.iterator({ gte: SHR, lt: `${SHR}~` });
      try {
        while (out.length < limit) {
          const entry = await it.next();
          if (entry === undefined) break;
          const { peer, seq } = shrParts(entry[0]);
          const from = Object.hasOwn(after, peer) ? after[peer]! : 0;
          if (seq > from) {
            out.push(JSON.parse(entry[1]) as SharedRecord);
            continue;
          }
          // Only ever forward (seqs past 12 digits do not sort numerically), so the scan ends.
          const target = shrKey(peer, from + 1);
          if (target > entry[0]) it.seek(target);
        }
      } finally {
        await it.close();
      }
      return out;
    },
    async sharedKnown() {
      // Keys only, no record parsed: every sync request asks for this.
      const known: Record<string, number> = {};
      const it = db.keys({ gte: SHR, lt: `${SHR}~` });
      try {
        for (let key = await it.next(); key !== undefined; key = await it.next()) {
          const { peer, seq } = shrParts(key);
          const high = Object.hasOwn(known, peer) ? known[peer]! : 0;
          if (seq === high + 1) known[peer] = seq;
          // A gap: the rest of this origin cannot extend the run.
          else if (seq > high + 1) it.seek(`${SHR}${peer}!~`);
        }
      } finally {
        await it.close();
      }
      return known;
    },
    async putObject(hash, bytes) {
      await write(() => db.put(OBJ + hash, Buffer.from(bytes).toString('base64'), { sync: true }), `object ${hash.slice(0, 12)}`);
    },
    async getObject(hash) {
      const raw = await db.get(OBJ + hash);
      return raw === undefined ? undefined : new Uint8Array(Buffer.from(raw, 'base64'));
    },
    async putNoise(floor) {
      await write(() => db.put(`${NSE}${String(floor.n).padStart(12, '0')}`, JSON.stringify(floor), { sync: true }), `noise floor ${floor.n}`);
    },
    async noiseFloors() {
      return (await db.values({ gte: NSE, lt: NSE + '~' }).all()).map((v) => JSON.parse(v) as NoiseFloor);
    },
    async close() {
      await db.close();
    },
  };

  /**
   * Fail-stop: after one failed write LevelDB's log may end in a torn record, and on reopen it drops
   * whatever follows that record in the same block; so once a write fails, every later write fails
   * too, and nothing is acknowledged that could then be lost. Reopening recovers a clean log.
   */
  async function write(op: () => Promise<void>, what: string): Promise<void> {
    if (failed) throw new StoreError(`${failed.message} (writes stopped at that failure; ${what} was not written)`, { hint: failed.hint, cause: failed });
    try {
      await op();
    } catch (err) {
      failed = diskError(StoreError, err, dir, `write ${what} to the store`) ?? new StoreError(`cannot write ${what} to ${dir}: ${(err as Error).message}`, {
        hint: 'is the disk full or the folder read-only? Nothing already stored was changed.', cause: err,
      });
      throw failed;
    }
  }
}

function openError(dir: string, err: unknown): StoreError {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (cause?.code === 'LEVEL_LOCKED') {
    return new StoreError(`the store at ${dir} is in use by another swarm process`, {
      hint: 'stop the other `npx swarm join` using this state folder, or pass a different --state DIR', cause: err,
    });
  }
  const disk = diskError(StoreError, err, dir, 'open the store');
  if (disk) return disk;
  return new StoreError(`cannot open the store at ${dir}: ${(err as Error).message}`, {
    hint: 'check that the state folder is writable and the disk is not full', cause: err,
  });
}

/** True when the store could not be opened because another process holds it. */
export function isLocked(err: unknown): boolean {
  return err instanceof StoreError && /in use by another swarm process/.test(err.message);
}
