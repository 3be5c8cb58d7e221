import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { sourceHash } from '../../src/core/index.js';

/** train.py versions of the fixture run: a constant per line, as the reference's agent edits them. */
export const V0 = 'DEPTH = 8\nLR = 0.02\nACT = "relu"\nWIDTH = 512\nROPE = 10000\nWD = 0.0\n';
export const V1 = V0.replace('LR = 0.02', 'LR = 0.04');
export const GELU = V1.replace('"relu"', '"gelu"');
export const WIDE = V1.replace('WIDTH = 512', 'WIDTH = 1024');
export const V2 = V1.replace('ROPE = 10000', 'ROPE = 200000');
export const WD = V2.replace('WD = 0.0', 'WD = 0.01');
export const hash = sourceHash;

export interface Run {
  dir: string;
  /** Short (7) hashes of the run's commits, by name. */
  c: Record<'start' | 'k1' | 'gelu' | 'wide' | 'k2' | 'wd', string>;
  /** results.tsv exactly as the reference writes it. */
  tsv: string;
  git(...args: string[]): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * An autoresearch run as the reference leaves it: branch autoresearch/dec1 off master, a baseline
 * row reading `baseline`, kept commits advancing the branch, and discards reset away (a gc makes the
 * first two really gone; the last discard's commit is still in the objects, as before a gc).
 */
export async function makeRun(): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-import-run-'));
  const env = {
    HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'agent', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'agent', GIT_COMMITTER_EMAIL: 'a@x', PATH: process.env.PATH ?? '',
  };
  const git = async (...args: string[]) => (await execa('git', args, { cwd: dir, env, extendEnv: false })).stdout.trim();
  const commit = async (source: string, message: string) => {
    await writeFile(join(dir, 'train.py'), source);
    await git('add', 'train.py');
    await git('commit', '-q', '-m', message);
    return git('rev-parse', '--short=7', 'HEAD');
  };
  await git('init', '-q', '-b', 'master');
  await writeFile(join(dir, 'prepare.py'), '# fixed\n');
  await git('add', 'prepare.py');
  const start = await commit(V0, 'initial');
  await git('checkout', '-q', '-b', 'autoresearch/dec1');
  const k1 = await commit(V1, 'increase LR to 0.04');
  const gelu = await commit(GELU, 'switch to GeLU activation');
  await git('reset', '-q', '--hard', 'HEAD~1');
  const wide = await commit(WIDE, 'double model width');
  await git('reset', '-q', '--hard', 'HEAD~1');
  await git('update-ref', '-d', 'ORIG_HEAD');
  await git('reflog', 'expire', '--expire=now', '--all');
  await git('gc', '-q', '--prune=now');
  const k2 = await commit(V2, 'RoPE base 200k');
  const wd = await commit(WD, 'weight decay 0.01');
  await git('reset', '-q', '--hard', 'HEAD~1');
  const tsv = [
    'commit\tval_bpb\tmemory_gb\tstatus\tdescription',
    'baseline\t0.997900\t44.0\tkeep\tbaseline',
    `${k1}\t0.993200\t44.2\tkeep\tincrease LR to 0.04`,
    `${gelu}\t1.005000\t44.0\tdiscard\tswitch to GeLU activation`,
    `${wide}\t0.000000\t0.0\tcrash\tdouble model width (OOM)`,
    `${k2}\t0.990100\t45.1\tkeep\tRoPE base 200k`,
    `${wd}\t0.991000\t45.1\tdiscard\tweight decay 0.01`,
  ].join('\n') + '\n';
  await writeFile(join(dir, 'results.tsv'), tsv);
  return { dir, c: { start, k1, gelu, wide, k2, wd }, tsv, git, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
