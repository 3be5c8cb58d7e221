import { randomBytes } from 'node:crypto';

/** A unique id that sorts by creation time: milliseconds in base 36, then 8 random hex digits. */
export function newId(now = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
}
