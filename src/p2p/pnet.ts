/**
 * Private swarms: a pre-shared key (libp2p private network, "pnet") that every connection must
 * prove before noise starts. The key file is the standard libp2p / IPFS swarm key:
 *
 *   /key/swarm/psk/1.0.0/
 *   /base16/
 *   <64 hex digits>
 */
import { randomBytes } from 'node:crypto';
import { SwarmError } from '../core/errors.js';

/** A swarm key file that cannot be used. Messages name the file but never echo its contents. */
export class SwarmKeyError extends SwarmError {}

const TAG = '/key/swarm/psk/1.0.0/';
const CODEC = '/base16/';
const KEY_BYTES = 32;
/** Far more than a key file needs (95 bytes); bounds what is decoded. */
const MAX_FILE_BYTES = 4096;
const HINT = `a swarm key file is three lines: ${TAG}, ${CODEC}, and 64 hex digits (32 random bytes); `
  + 'every node of the private swarm needs the same file';

const format = (hex: string): Uint8Array => new TextEncoder().encode(`${TAG}\n${CODEC}\n${hex}\n`);

/** A fresh random swarm key in the standard file format (lowercase hex, trailing newline). */
export function generateSwarmKey(): Uint8Array {
  return format(randomBytes(KEY_BYTES).toString('hex'));
}

/**
 * Validates a swarm key file and returns it in canonical form (LF line ends, lowercase hex),
 * ready for `P2PInit.swarmKey`. `where` names the file in error messages.
 */
export function parseSwarmKey(bytes: Uint8Array, where: string): Uint8Array {
  const fail = (what: string): never => {
    throw new SwarmKeyError(`${where}: not a swarm key: ${what}`, { hint: HINT });
  };
  if (bytes.byteLength === 0) fail('the file is empty');
  if (bytes.byteLength > MAX_FILE_BYTES) fail(`the file is ${bytes.byteLength} bytes; a swarm key is about 100`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    fail('the file is not text');
  }
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  const [tag = '', codec = '', key = '', ...rest] = lines;
  if (tag !== TAG) fail(`the first line must be ${TAG}`);
  if (codec !== CODEC) {
    fail(codec.startsWith('/') ? `the second line must be ${CODEC} (other encodings are not supported)` : `the second line must be ${CODEC}`);
  }
  if (key === '') fail('the third line (the key) is missing');
  if (!/^[0-9a-fA-F]*$/.test(key)) fail('the third line must be hex digits only');
  if (key.length !== KEY_BYTES * 2) fail(`the key must be ${KEY_BYTES * 2} hex digits, found ${key.length}`);
  if (rest.length > 0) fail('unexpected lines after the key');
  return format(key.toLowerCase());
}
