/**
 * Request/response framing for the fetch and sync protocols: one stream per request; the
 * requester writes one frame, the responder writes one frame and closes. A frame is an unsigned
 * varint (LEB128) byte length followed by that many bytes.
 */
import { lpStream } from '@libp2p/utils';
import type { Stream } from '@libp2p/interface';

export const WIRE = {
  /** Largest request frame (a sync request's `after` map dominates). */
  maxRequestBytes: 1024 * 1024,
  /** Largest fetch response frame: 1 status byte + the object. */
  maxObjectBytes: 8 * 1024 * 1024,
  /** Largest sync response frame. */
  maxSyncResponseBytes: 8 * 1024 * 1024,
  /** Most records a sync response carries. */
  maxSyncPage: 256,
  /** Responder: time to receive the request and send the answer. */
  serveTimeoutMs: 15_000,
  /** Requester: time for one whole request (dial + request + response). */
  requestTimeoutMs: 15_000,
  /** Sync pages per syncFrom call (bounds a peer that never says "done"). */
  maxSyncPages: 10_000,
} as const;

/** Fetch response status byte. */
export const FETCH_FOUND = 0x01;
export const FETCH_NOT_FOUND = 0x00;

/** A Uint8ArrayList (what lpStream reads) or a Uint8Array, as one contiguous Uint8Array. */
function toBytes(data: { subarray(): Uint8Array }): Uint8Array {
  return data.subarray();
}

/** Reads one frame (bounded by maxBytes), aborting on `signal`. */
export async function readFrame(stream: Stream, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const lp = lpStream(stream, { maxDataLength: maxBytes });
  return toBytes(await lp.read({ signal }));
}

export async function writeFrame(stream: Stream, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
  const lp = lpStream(stream);
  await lp.write(bytes, { signal });
}

/** One whole exchange on an open stream: write the request, read the response, close. */
export async function exchange(stream: Stream, request: Uint8Array, maxResponse: number, signal: AbortSignal): Promise<Uint8Array> {
  const lp = lpStream(stream, { maxDataLength: maxResponse });
  try {
    await lp.write(request, { signal });
    const res = toBytes(await lp.read({ signal }));
    await stream.close({ signal }).catch(() => undefined);
    return res;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

/** Serves one exchange: read a request, compute the answer, write it, close. Never throws. */
export async function serve(
  stream: Stream,
  maxRequest: number,
  answer: (request: Uint8Array) => Promise<Uint8Array>,
  onError: (err: unknown) => void,
): Promise<void> {
  const signal = AbortSignal.timeout(WIRE.serveTimeoutMs);
  try {
    const lp = lpStream(stream, { maxDataLength: maxRequest });
    const req = toBytes(await lp.read({ signal }));
    const res = await answer(req);
    await lp.write(res, { signal });
    await stream.close({ signal });
  } catch (err) {
    onError(err);
    try {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    } catch { /* already gone */ }
  }
}
