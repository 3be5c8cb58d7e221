/**
 * A trainer folder (`swarm join --trainer DIR`) and the harness that runs it. Three shapes:
 *   - DIR holds train.py and no prepare.py: our embedded harness (the checkout's trainer/prepare.py and
 *     evaluate.py) runs DIR's train.py, and evaluate.py measures it (the trusted measurement);
 *   - DIR holds prepare.py and evaluate.py: a harness of ours (the checkout's trainer/ itself, or a copy),
 *     measured the same way;
 *   - DIR holds prepare.py and no evaluate.py: a foreign harness in the reference's layout. Its runs'
 *     printed val_bpb counts, and their results are marked self-reported.
 * DIR's program.md is the agent's instructions unless --program names others (config's default).
 */
import { constants as fsConstants } from 'node:fs';
import { access, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type Dataset, type Hardware } from '../core/index.js';

export interface TrainerLayout {
  /** 'swarm': measured by our evaluate.py; 'foreign': the run's own printed val_bpb counts (self-reported). */
  harness: 'swarm' | 'foreign';
  /** The folder given (absolute). */
  dir: string;
  /** The folder on the runs' PYTHONPATH: its prepare.py is the one train.py imports. */
  harnessDir: string;
  prepare: string;
  /** The harness's evaluate.py; null for a foreign harness. */
  evaluate: string | null;
  /** DIR/train.py: the baseline, except where baselineOf picks the reference-class one. */
  train: string;
  /**
   * The kernels.py a run's `import kernels` finds (the offline stand-in for the reference's hub kernel):
   * the harness folder's, else for a foreign harness the embedded one, which follows DIR on PYTHONPATH.
   * Null when there is none. Part of the program: a train.py that imports it depends on it.
   */
  kernels: string | null;
}

const HINT = '--trainer DIR names a folder holding train.py (and prepare.py for a harness of its own; see README "Bring your own autoresearch")';

/**
 * Checks DIR and says which harness runs it; `embedded` is the checkout's trainer folder. A harness of
 * DIR's own (prepare.py and evaluate.py) is believed only when it is the checkout's, byte for byte, or
 * when `trustHarness` says so. Every problem is a ConfigError.
 */
export async function trainerLayout(dir: string, embedded: string, trustHarness = false): Promise<TrainerLayout> {
  const abs = path.resolve(dir);
  const kind = await entryKind(abs);
  if (kind !== 'dir') {
    throw new ConfigError(`the trainer folder ${abs} ${kind === 'missing' ? 'does not exist' : 'is not a folder'}`, { hint: HINT });
  }
  const train = path.join(abs, 'train.py');
  await readableFile(train, `the trainer folder ${abs} has no readable train.py`);
  await noLinkOut(abs, ['train.py', 'prepare.py', 'evaluate.py', 'kernels.py', 'program.md', path.join('reference', 'train.py')]);
  const [prepare, evaluate] = await Promise.all([entryKind(path.join(abs, 'prepare.py')), entryKind(path.join(abs, 'evaluate.py'))]);
  if (prepare === 'missing') {
    if (evaluate !== 'missing') {
      throw new ConfigError(`the trainer folder ${abs} has evaluate.py but no prepare.py: a harness of its own needs both`, {
        hint: 'add its prepare.py, or remove evaluate.py to run train.py under the embedded harness',
      });
    }
    const harness = await embeddedHarness(embedded);
    return { harness: 'swarm', dir: abs, train, ...harness, kernels: await kernelsIn([harness.harnessDir]) };
  }
  await readableFile(path.join(abs, 'prepare.py'), `the trainer folder ${abs} has a prepare.py that cannot be read`);
  if (evaluate === 'missing') {
    const kernels = await kernelsIn([abs, path.resolve(embedded)]);
    return { harness: 'foreign', dir: abs, train, harnessDir: abs, prepare: path.join(abs, 'prepare.py'), evaluate: null, kernels };
  }
  await readableFile(path.join(abs, 'evaluate.py'), `the trainer folder ${abs} has an evaluate.py that cannot be read`);
  if (!trustHarness && !(await sameHarness(abs, embedded))) {
    throw new ConfigError(`the trainer folder ${abs} holds a prepare.py and an evaluate.py of its own, unlike the checkout's trainer/`, {
      hint: 'the node would run that prepare.py outside the fence and believe that evaluate.py: pass --trust-harness only if it is your own code; '
        + 'remove both to run its train.py under swarm\'s harness, or remove evaluate.py to run it as a fenced foreign harness (self-reported)',
    });
  }
  const kernels = await kernelsIn([abs]);
  return { harness: 'swarm', dir: abs, train, harnessDir: abs, prepare: path.join(abs, 'prepare.py'), evaluate: path.join(abs, 'evaluate.py'), kernels };
}

/**
 * The baseline train.py. A harness folder of ours offers a reference-class baseline for the reference's
 * own setting (a CUDA box on climbmix) in reference/train.py; everywhere else, and for any other folder,
 * its train.py.
 */
export async function baselineOf(layout: TrainerLayout, hw: Pick<Hardware, 'device'>, dataset: Dataset): Promise<string> {
  if (layout.harness === 'swarm' && layout.harnessDir === layout.dir && hw.device === 'cuda' && dataset === 'climbmix') {
    const reference = path.join(layout.dir, 'reference', 'train.py');
    if ((await entryKind(reference)) === 'file') return reference;
  }
  return layout.train;
}

/** A one-line description for the node's log. */
export function describeLayout(layout: TrainerLayout, baseline: string): string {
  const harness = layout.harness === 'foreign'
    ? `a foreign harness (${layout.prepare}): its runs' printed val_bpb counts, results are self-reported`
    : `the harness in ${layout.harnessDir} measures val_bpb`;
  return `trainer: baseline ${baseline}; ${harness}`;
}

async function embeddedHarness(embedded: string): Promise<Pick<TrainerLayout, 'harnessDir' | 'prepare' | 'evaluate'>> {
  const harnessDir = path.resolve(embedded);
  const prepare = path.join(harnessDir, 'prepare.py');
  const evaluate = path.join(harnessDir, 'evaluate.py');
  for (const f of [prepare, evaluate]) {
    await readableFile(f, `the embedded harness is incomplete: ${f} cannot be read`, 'restore trainer/ of this checkout (git checkout -- trainer)');
  }
  return { harnessDir, prepare, evaluate };
}

/** DIR's prepare.py and evaluate.py are the checkout's, byte for byte (DIR may be trainer/ itself). */
async function sameHarness(dir: string, embedded: string): Promise<boolean> {
  for (const name of ['prepare.py', 'evaluate.py']) {
    const [theirs, ours] = await Promise.all([readFile(path.join(dir, name)), readFile(path.join(embedded, name)).catch(() => null)]);
    if (ours === null || !theirs.equals(ours)) return false;
  }
  return true;
}

/** The first kernels.py in these folders, in PYTHONPATH order. */
async function kernelsIn(folders: readonly string[]): Promise<string | null> {
  for (const folder of folders) {
    const file = path.join(folder, 'kernels.py');
    if ((await entryKind(file)) === 'file') return file;
  }
  return null;
}

/**
 * A trainer folder's files are read by the node, hashed into the program id, sent to the agent
 * (program.md) and served to peers (train.py, the baseline): a link in it to a file outside it (a
 * cloned repository may hold `train.py -> ~/.ssh/id_ed25519`) would publish that file. Links within
 * the folder are fine.
 */
async function noLinkOut(dir: string, names: readonly string[]): Promise<void> {
  const root = await realpath(dir);
  for (const name of names) {
    const real = await realpath(path.join(dir, name)).catch(() => null);
    if (real !== null && !real.startsWith(root + path.sep)) {
      throw new ConfigError(`${path.join(dir, name)} leads outside the trainer folder (to ${real})`, {
        hint: 'copy the file into the trainer folder instead of linking it: what a trainer folder holds is hashed, shown to the agent and shared with peers',
      });
    }
  }
}

async function entryKind(p: string): Promise<'file' | 'dir' | 'other' | 'missing'> {
  try {
    const s = await stat(p);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

/** A regular file the node can read (checked by reading it: access() says yes to root for a 000 file on some systems). */
async function readableFile(p: string, message: string, hint = HINT): Promise<void> {
  try {
    if ((await entryKind(p)) !== 'file') throw new Error('not a regular file');
    await access(p, fsConstants.R_OK);
    await readFile(p);
  } catch (err) {
    throw new ConfigError(`${message} (${(err as Error).message})`, { hint, cause: err });
  }
}
