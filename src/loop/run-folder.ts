import { createHash } from 'node:crypto';

/**
 * The name of a run folder for a run of code from elsewhere (a replication, `swarm verify`): a prefix
 * and the first 16 hex digits of sha256 over the parts, joined by `|`. Peers choose experiment ids,
 * so no part of one reaches the file system as text, whatever it holds.
 */
export function runFolderName(prefix: 'verify', ...parts: string[]): string {
  return `${prefix}-${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 16)}`;
}
