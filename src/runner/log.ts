/** The run log the node keeps: what a run printed, up to a size cap, so a flood cannot fill the disk. */
import { formatBytes } from '../sandbox/index.js';
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';

/** Default cap on a run log: far above an honest run's few hundred KB of progress lines. */
export const MAX_LOG_BYTES = 8 << 20;

export interface CappedLog {
  /** Appends while under the cap; past it, returns the limit the run hit (the caller stops the run). */
  write(chunk: Buffer): string | null;
  /** Closes the file; resolves with the write error (a full disk), or null. */
  end(): Promise<unknown>;
  /** Bytes the run printed beyond the cap (not kept). */
  readonly dropped: number;
}

export function cappedLog(path: string, maxBytes = MAX_LOG_BYTES): CappedLog {
  const file: WriteStream = createWriteStream(path, { flags: 'w' });
  // A write error (a full disk) ends the file; later writes are dropped, the run goes on, and end() reports it.
  const done = finished(file).then(() => null, (err: unknown) => err);
  let kept = 0;
  let dropped = 0;
  return {
    write(chunk: Buffer): string | null {
      const room = maxBytes - kept;
      if (file.destroyed) return null;
      if (room > 0) file.write(chunk.length <= room ? chunk : chunk.subarray(0, room));
      kept += Math.min(Math.max(room, 0), chunk.length);
      if (chunk.length <= room) return null;
      if (dropped === 0) file.write(`\n[swarm] run log cut at ${maxBytes} bytes: the run was stopped\n`);
      dropped += chunk.length - Math.max(room, 0);
      return `log limit: the run printed more than ${formatBytes(maxBytes)}`;
    },
    async end(): Promise<unknown> {
      if (!file.writableEnded) file.end();
      return done;
    },
    get dropped() {
      return dropped;
    },
  };
}
