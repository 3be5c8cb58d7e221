/**
 * The scratch folder of one agent call, and what the node takes back from it: train.py's new text and
 * nothing else. Layout (a fresh temporary folder per call):
 *
 *   ROOT/work/   the agent's working directory: train.py, program.md, SWARM.md
 *   ROOT/node/   the node's files (the task, the agent's last message and logs), outside the agent's folder
 *
 * After the call the folder must hold exactly those three files, program.md and SWARM.md unchanged, train.py
 * a regular file (not a symbolic or hard link) of bounded size and valid UTF-8, and ROOT nothing but work/ and node/.
 * Anything else is refused with the reason: the node never runs a call that touched what it must not.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A train.py larger than this is refused (the reference's is ~26 KB). */
export const MAX_TRAIN_BYTES = 512 * 1024;
/** program.md and SWARM.md are compared with what the node wrote; a file grown past this is not read. */
const MAX_FIXED_BYTES = 4 * 1024 * 1024;
const EDITABLE = 'train.py';

export interface Scratch {
  root: string;
  dir: string;
  taskFile: string;
  outputFile: string;
  logDir: string;
  /** sha256 of the read-only files as written. */
  fixed: ReadonlyMap<string, string>;
}

/** Why what the agent left cannot be used: it touched something besides train.py, or train.py is not text. */
export class Refusal extends Error {}

export async function openScratch(files: { train: string; program: string; swarm: string; task: string }): Promise<Scratch> {
  // The real path: permission rules name it, and agents match them against resolved paths (macOS's /var is a link).
  const root = await realpath(await mkdtemp(join(tmpdir(), 'swarm-agent-')));
  const dir = join(root, 'work');
  const logDir = join(root, 'node');
  await mkdir(dir);
  await mkdir(logDir);
  const fixed = new Map([['program.md', files.program], ['SWARM.md', files.swarm]]);
  await writeFile(join(dir, EDITABLE), files.train);
  for (const [name, text] of fixed) await writeFile(join(dir, name), text);
  const taskFile = join(logDir, 'task.md');
  await writeFile(taskFile, files.task);
  return {
    root, dir, taskFile, logDir, outputFile: join(logDir, 'last-message.txt'),
    fixed: new Map([...fixed].map(([name, text]) => [name, sha256(Buffer.from(text))])),
  };
}

/** train.py as the agent left it; throws Refusal when it touched anything else or left train.py unusable. */
export async function takeBack(s: Scratch): Promise<string> {
  const outside = (await readdir(s.root)).filter((n) => n !== 'work' && n !== 'node');
  if (outside.length > 0) throw new Refusal(`it wrote outside its folder: ${list(outside.map((n) => `../${n}`))}`);
  const entries = await readdir(s.dir);
  const extra = entries.filter((n) => n !== EDITABLE && !s.fixed.has(n));
  if (extra.length > 0) throw new Refusal(`it created ${list(extra)} (only train.py may change)`);
  const missing = [EDITABLE, ...s.fixed.keys()].filter((n) => !entries.includes(n));
  if (missing.length > 0) throw new Refusal(`it removed ${list(missing)}`);
  for (const [name, hash] of s.fixed) {
    const bytes = await readChecked(s.dir, name, MAX_FIXED_BYTES).catch(() => null);
    if (!bytes || sha256(bytes) !== hash) throw new Refusal(`it changed ${name} (only train.py may change)`);
  }
  const bytes = await readChecked(s.dir, EDITABLE, MAX_TRAIN_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Refusal('train.py is not valid UTF-8');
  }
  if (text.includes('\u0000')) throw new Refusal('train.py holds NUL bytes');
  return text;
}

/** What the agent wrote to `path` (its last message), bounded; null when it wrote nothing there. */
export async function readBounded(path: string, max = 64 * 1024): Promise<string | null> {
  const file = await open(path, READ_FLAGS).catch(() => null);
  if (!file) return null;
  try {
    if (!(await file.stat()).isFile()) return null;
    const { buffer, bytesRead } = await file.read(Buffer.alloc(max), 0, max, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } catch {
    return null;
  } finally {
    await file.close();
  }
}

/** Never through a link, never blocking on a FIFO the agent left in place of a file. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * A file of the folder as the agent left it. The checks are made on the open file, which is the one read: a
 * process the agent left running cannot swap the path between check and read. A hard link would hand the
 * node another file of the disk (a key, a config) as this one.
 */
async function readChecked(dir: string, name: string, max: number): Promise<Buffer> {
  const file = await open(join(dir, name), READ_FLAGS).catch((err: NodeJS.ErrnoException) => {
    throw new Refusal(err.code === 'ELOOP' ? `${name} was replaced by a symbolic link` : `${name} cannot be opened (${err.code ?? err.message})`);
  });
  try {
    const info = await file.stat();
    if (!info.isFile()) throw new Refusal(`${name} is no longer a regular file`);
    if (info.nlink !== 1) throw new Refusal(`${name} is a hard link to another file (${info.nlink} names)`);
    const { buffer, bytesRead } = await file.read(Buffer.alloc(max + 1), 0, max + 1, 0);
    if (bytesRead > max) throw new Refusal(`${name} grew past ${max} bytes (the limit)`);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

export async function closeScratch(s: Scratch): Promise<void> {
  await rm(s.root, { recursive: true, force: true });
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n)).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}
