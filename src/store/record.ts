import { StoreError, type ExperimentRecord } from '../core/index.js';

const STATUSES = new Set(['running', 'keep', 'discard', 'crash', 'invalid', 'skip']);

/** Parses a stored record, refusing anything that is not a v1 experiment record. */
export function parseRecord(raw: string, where: string): ExperimentRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new StoreError(`corrupt record in ${where}: not JSON`, { cause: err });
  }
  const r = value as Partial<ExperimentRecord> | null;
  if (!r || r.v !== 1 || typeof r.id !== 'string' || typeof r.seq !== 'number' || !STATUSES.has(r.status as string)) {
    throw new StoreError(`corrupt record in ${where}: not a version 1 experiment record`);
  }
  return r as ExperimentRecord;
}
