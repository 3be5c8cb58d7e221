import { createHash } from 'node:crypto';

/** sha256 hex of a train.py's text: the content address used everywhere a version is named. */
export function sourceHash(source: string): string {
  return createHash('sha256').update(source, 'utf8').digest('hex');
}
