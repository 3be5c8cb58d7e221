import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/index.js';

/** The bootstrap peers file: a JSON array of multiaddrs (may be missing or empty). */
export async function readBootstrap(path: string): Promise<string[]> {
  const text = await readText(path, 'the bootstrap peers file', true);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`the bootstrap peers file ${path} is not valid JSON: ${(err as Error).message}`, {
      hint: 'it must hold a JSON array of multiaddrs, e.g. ["/ip4/10.0.0.2/tcp/4001/p2p/12D3Koo..."], or []',
    });
  }
  if (!Array.isArray(value) || !value.every((a) => typeof a === 'string' && a.startsWith('/'))) {
    throw new ConfigError(`the bootstrap peers file ${path} must hold a JSON array of multiaddr strings`, {
      hint: 'e.g. ["/ip4/10.0.0.2/tcp/4001/p2p/12D3Koo..."], or [] for none',
    });
  }
  return value as string[];
}

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${what} at ${path}: ${(err as Error).message}`, {
      hint: 'create one with `npx swarm key generate --out FILE` and give every invited box a copy', cause: err,
    });
  }
}

export async function readText(path: string, what: string, emptyOk = false): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    if (!emptyOk && text.trim() === '') throw new ConfigError(`${what} at ${path} is empty`);
    return text;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read ${what} at ${path}: ${(err as Error).message}`, { cause: err });
  }
}
