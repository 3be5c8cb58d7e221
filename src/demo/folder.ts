import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { queryControl, type LiveStatus } from '../control/index.js';
import { ConfigError } from '../core/index.js';

/** One node of the demo: its name and state folder. */
export interface Slot {
  name: string;
  state: string;
}

/** What the demo folder remembers between runs: its nodes and their peer ids (names for the summary). */
export interface DemoMeta {
  v: 1;
  createdAt: string;
  nodes: { name: string; peerId: string | null }[];
}

const META = 'demo.json';
/** An empty bootstrap list: demo nodes find each other, never the peers listed for this checkout. */
const BOOTSTRAP = 'bootstrap-peers.json';

export const metaPath = (dir: string) => join(dir, META);
export const bootstrapPath = (dir: string) => join(dir, BOOTSTRAP);

/**
 * Makes `dir` ready for `count` nodes: a new demo in a missing or empty folder, the earlier demo
 * resumed (more nodes added, fewer started) in a folder holding one. Refuses a folder that holds
 * something else, and one whose demo is still running.
 */
export async function prepareFolder(dir: string, count: number): Promise<{ slots: Slot[]; meta: DemoMeta; resumed: boolean }> {
  const entries = existsSync(dir) ? await readdir(dir) : [];
  let meta: DemoMeta;
  const resumed = entries.includes(META);
  if (resumed) {
    meta = await readMeta(dir);
  } else if (entries.length > 0) {
    throw new ConfigError(`${dir} is not empty and holds no earlier demo (no ${META})`, {
      hint: 'pass --dir with a new or empty folder, or one an earlier `swarm demo` made',
    });
  } else {
    meta = { v: 1, createdAt: new Date().toISOString(), nodes: [] };
  }
  for (let i = meta.nodes.length; i < count; i++) meta.nodes.push({ name: `node-${i + 1}`, peerId: null });
  const slots = meta.nodes.slice(0, count).map((n) => ({ name: n.name, state: join(dir, n.name) }));
  for (const slot of slots) await refuseRunning(dir, slot);
  await mkdir(dir, { recursive: true });
  await writeMeta(dir, meta);
  if (!existsSync(bootstrapPath(dir))) await writeFile(bootstrapPath(dir), '[]\n');
  return { slots, meta, resumed };
}

export async function writeMeta(dir: string, meta: DemoMeta): Promise<void> {
  await writeFile(metaPath(dir), JSON.stringify(meta, null, 2) + '\n');
}

export async function readMeta(dir: string): Promise<DemoMeta> {
  try {
    const meta = JSON.parse(await readFile(metaPath(dir), 'utf8')) as DemoMeta;
    if (meta.v !== 1 || !Array.isArray(meta.nodes)) throw new Error('unknown layout');
    return meta;
  } catch (err) {
    throw new ConfigError(`${metaPath(dir)} cannot be read: ${(err as Error).message}`, {
      hint: `remove ${dir} to start a new demo there, or pass another --dir`,
    });
  }
}

/** A node of this demo that still answers on its control socket is running: a second demo must not start it again. */
async function refuseRunning(dir: string, slot: Slot): Promise<void> {
  if (!existsSync(join(slot.state, 'control.sock'))) return;
  const live = await queryControl<LiveStatus>(slot.state, '/status', 2000).catch(() => null);
  if (live) {
    throw new ConfigError(`the demo in ${dir} is still running (${slot.name} is pid ${live.pid})`, {
      hint: 'stop it with Ctrl-C in its terminal (or kill -INT that pid), or pass another --dir',
    });
  }
}
