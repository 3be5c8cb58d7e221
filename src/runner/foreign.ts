/**
 * Runs of a foreign harness (a prepare.py in the reference's layout, without our evaluate.py). It has
 * no `manifest` and no evaluation of its own: its train.py prints the val_bpb that counts. Its data is
 * where the reference keeps it, ~/.cache/autoresearch of the node's user, shown read-only to every run
 * at the same place under the run's HOME (its run folder). The node never runs the foreign prepare.py
 * outside the fence: it checks once, fenced and offline, that `python prepare.py` finds its data.
 */
import { lstat, mkdir, rm, stat, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { TrainerError } from '../core/index.js';
import { LineSplitter, RingBuffer } from './lines.js';
import { lastExceptionLine } from './parse.js';
import { runFenced, type FencedProcess } from './process.js';

/** Where the foreign data is mounted inside the fence (its host path stays hidden). */
export const FOREIGN_MOUNT = '/swarm/autoresearch';
const HOME_CACHE = path.join('.cache', 'autoresearch');

/** The reference's data and tokenizer cache on this box. */
export function defaultForeignCache(): string {
  return path.join(homedir(), HOME_CACHE);
}

/**
 * Makes `<runDir>/.cache/autoresearch` (HOME is the run folder) lead to the cache: a link to the
 * read-only bind returned (fenced), or to the host folder itself (no filesystem fence). No cache: nothing.
 * A resumed run's folder holds what its last attempt (a peer's code) left: `.cache` is never followed
 * as a link, so the node never removes or writes anything outside the run folder.
 */
export async function foreignView(runDir: string, cache: string, fenced: boolean): Promise<{ src: string; dest: string }[]> {
  const isDir = await stat(cache).then((s) => s.isDirectory(), () => false);
  if (!isDir) return [];
  const dotCache = path.join(runDir, path.dirname(HOME_CACHE));
  if (await lstat(dotCache).then((s) => !s.isDirectory(), () => false)) await rm(dotCache, { force: true });
  await mkdir(dotCache, { recursive: true });
  const link = path.join(runDir, HOME_CACHE);
  await rm(link, { recursive: true, force: true });
  await symlink(fenced ? FOREIGN_MOUNT : cache, link);
  return fenced ? [{ src: cache, dest: FOREIGN_MOUNT }] : [];
}

/**
 * `python prepare.py` in the fence, without network, as a run would see the data: the reference's
 * main downloads what is missing and trains the tokenizer unless present, so offline it succeeds
 * exactly when its data is ready. A TrainerError names its last line.
 */
export async function checkForeignData(p: Omit<FencedProcess, 'onOutput'> & { prepare: string; cache: string }): Promise<void> {
  const tail = new RingBuffer<string>(20);
  const splitter = new LineSplitter((line) => tail.push(line));
  const end = await runFenced({ ...p, onOutput: (chunk) => splitter.push(chunk) });
  splitter.end();
  if (!end.timedOut && !end.limit && end.exitCode === 0) return;
  const lines = tail.toArray();
  const why = end.limit ?? (end.timedOut ? `timed out after ${p.timeoutSeconds} s` : lastExceptionLine(lines) ?? lines.filter((l) => l.trim()).at(-1) ?? `exit ${end.exitCode ?? end.signal}`);
  throw new TrainerError(`the foreign harness's prepare.py cannot give its data offline: ${why.slice(0, 300)}`, {
    hint: `run \`python ${p.prepare}\` once with network (the reference caches its data in ${p.cache}, which the node shows read-only to its runs), then join again`,
  });
}
