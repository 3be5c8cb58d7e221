/** The node's persistent Ed25519 identity and its persistent record counter. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { SwarmError } from '../core/errors.js';

/** The identity file or the counter cannot be read or written, or holds something else. */
export class IdentityError extends SwarmError {}

async function writeAtomic(file: string, bytes: Uint8Array | string, mode: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/**
 * Loads the private key stored at `file` (libp2p protobuf encoding), or creates a fresh Ed25519
 * key there (mode 0600) when the file does not exist.
 */
export async function loadOrCreateIdentity(file: string): Promise<PrivateKey> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new IdentityError(`cannot read the node identity ${file}`, { cause: err, hint: 'check the file permissions' });
    }
  }
  if (bytes !== undefined) {
    let key: PrivateKey;
    try {
      key = privateKeyFromProtobuf(new Uint8Array(bytes));
    } catch (err) {
      throw new IdentityError(`the node identity ${file} is not a libp2p private key`, {
        cause: err,
        hint: 'move it away to create a new identity (the node gets a new peer id)',
      });
    }
    if (key.type !== 'Ed25519') {
      throw new IdentityError(`the node identity ${file} is a ${key.type} key; swarm needs Ed25519`, {
        hint: 'move it away to create a new identity',
      });
    }
    // Tighten permissions if someone loosened them; ignore failures (read-only mounts).
    try {
      const st = await stat(file);
      if ((st.mode & 0o077) !== 0) await chmod(file, 0o600);
    } catch { /* best effort */ }
    return key;
  }
  const key = await generateKeyPair('Ed25519');
  try {
    await writeAtomic(file, privateKeyToProtobuf(key), 0o600);
  } catch (err) {
    throw new IdentityError(`cannot write the node identity ${file}`, { cause: err, hint: 'check that its folder is writable' });
  }
  return key;
}

/**
 * The origin's record counter: strictly increasing across restarts. The last value handed out
 * is written to `file` (atomically, fsync'd) before it is used.
 */
export class SeqCounter {
  private last = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private constructor(private readonly file: string) {}

  static async open(file: string, atLeast = 0): Promise<SeqCounter> {
    const c = new SeqCounter(file);
    let stored = 0;
    try {
      const text = (await readFile(file, 'utf8')).trim();
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < 0) throw new IdentityError(`the record counter ${file} holds ${JSON.stringify(text.slice(0, 40))}`);
      stored = n;
    } catch (err) {
      if (err instanceof IdentityError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new IdentityError(`cannot read the record counter ${file}`, { cause: err });
    }
    c.last = Math.max(stored, atLeast);
    return c;
  }

  /** The last seq handed out (0 before the first). */
  get current(): number {
    return this.last;
  }

  /**
   * Makes sure the next seq is above `seq` (a record of ours came back from a peer: the local
   * counter was lost). Persisted with the next `next()`.
   */
  bump(seq: number): void {
    if (Number.isSafeInteger(seq) && seq > this.last) this.last = seq;
  }

  /** Reserves and persists the next seq. Calls are serialised. */
  next(): Promise<number> {
    const p = this.chain.then(async () => {
      const n = this.last + 1;
      await writeAtomic(this.file, `${n}\n`, 0o600);
      this.last = n;
      return n;
    });
    this.chain = p.catch(() => undefined);
    return p;
  }
}
