import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import { StoreError, type ExperimentRecord } from '../core/index.js';
import { parseRecord } from './record.js';

/** Everything a node knows, kept in LevelDB so that no finished record is ever lost. */
export interface Store {
  readonly dir: string;
  /** Writes (or overwrites) a record durably: fsync'd before the promise resolves. */
  put(record: ExperimentRecord): Promise<void>;
  get(id: string): Promise<ExperimentRecord | undefined>;
  /** Every record, oldest first (by this node's sequence number). */
  list(): Promise<ExperimentRecord[]>;
  close(): Promise<void>;
}

// Keys: `exp!<id>` holds the record as JSON; `seq!<12-digit seq>` maps the sequence number to the id.
const EXP = 'exp!';
const SEQ = 'seq!';
const seqKey = (seq: number) => `${SEQ}${String(seq).padStart(12, '0')}`;

export async function openStore(dir: string): Promise<Store> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new StoreError(`cannot create the store folder ${dir}: ${(err as Error).message}`, {
      hint: 'choose a writable state folder with --state DIR', cause: err,
    });
  }
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  try {
    await db.open();
  } catch (err) {
    throw openError(dir, err);
  }
  return {
    dir,
    async put(record) {
      try {
        await db.batch([
          { type: 'put', key: EXP + record.id, value: JSON.stringify(record) },
          { type: 'put', key: seqKey(record.seq), value: record.id },
        ], { sync: true });
      } catch (err) {
        throw new StoreError(`cannot write experiment ${record.seq} to ${dir}: ${(err as Error).message}`, {
          hint: 'is the disk full or the folder read-only? Nothing already stored was changed.', cause: err,
        });
      }
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
    async close() {
      await db.close();
    },
  };
}

function openError(dir: string, err: unknown): StoreError {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (cause?.code === 'LEVEL_LOCKED') {
    return new StoreError(`the store at ${dir} is in use by another swarm process`, {
      hint: 'stop the other `swarm join` using this state folder, or pass a different --state DIR', cause: err,
    });
  }
  return new StoreError(`cannot open the store at ${dir}: ${(err as Error).message}`, {
    hint: 'check that the state folder is writable and the disk is not full', cause: err,
  });
}

/** True when the store could not be opened because another process holds it. */
export function isLocked(err: unknown): boolean {
  return err instanceof StoreError && /in use by another swarm process/.test(err.message);
}
