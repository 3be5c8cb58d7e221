import { join, resolve } from 'node:path';
import { repoRoot } from '../config/index.js';
import { ConfigError } from '../core/index.js';
import { runDemo } from '../demo/index.js';
import { readSnapshot } from './records.js';

export interface DemoOptions {
  nodes?: string;
  dir?: string;
  open?: boolean;
}

/** `swarm demo`: a local swarm of `--nodes` nodes in `--dir`; `extra` goes to every node's `swarm join`. */
export async function demo(o: DemoOptions, extra: string[]): Promise<number> {
  const nodes = Number(o.nodes ?? 3);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) {
    throw new ConfigError(`--nodes must be a whole number from 1 to 16, not "${o.nodes}"`, { hint: 'three show everything; more need more cores' });
  }
  return runDemo({
    nodes, open: o.open === true, extra,
    dir: resolve(o.dir ?? join(repoRoot(), 'node', 'demo')),
    cli: join(repoRoot(), 'dist', 'cli', 'main.js'),
    snapshot: readSnapshot,
  });
}
