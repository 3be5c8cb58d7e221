/**
 * Attacks on `swarm import` through the foreign repository's object folder: git borrows it
 * (GIT_OBJECT_DIRECTORY), so whatever git reads through it must stay inside the repository. A planted
 * objects/info/alternates, or a link in place of an object folder, would make the import read a
 * local repository of the node's user (its path guessable, its commits found by short-hash rows)
 * and share that code with the whole swarm.
 */
import { mkdtemp, rm, symlink, writeFile, mkdir, rename, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { ImportError } from '../../src/core/index.js';
import { importRun } from '../../src/import/index.js';
import { openStore } from '../../src/store/index.js';
import { openWorkspace } from '../../src/workspace/index.js';
import { makeRun, type Run } from './fixture.js';

const SECRET = 'PRIVATE_RESEARCH = "the user\'s unpublished idea"\n';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** A private repository of the node's user, elsewhere on the box: two commits whose train.py must never leave it. */
async function privateRepo(): Promise<{ dir: string; commit: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-private-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const env = { HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'me', GIT_AUTHOR_EMAIL: 'me@x', GIT_COMMITTER_NAME: 'me', GIT_COMMITTER_EMAIL: 'me@x', PATH: process.env.PATH ?? '' };
  const git = async (...args: string[]) => (await execa('git', args, { cwd: dir, env, extendEnv: false })).stdout.trim();
  await git('init', '-q', '-b', 'main');
  await writeFile(join(dir, 'train.py'), 'x = 1\n');
  await git('add', 'train.py');
  await git('commit', '-q', '-m', 'one');
  await writeFile(join(dir, 'train.py'), SECRET);
  await git('commit', '-q', '-am', 'two');
  await git('gc', '-q'); // packed, as a real repository's history mostly is
  return { dir, commit: await git('rev-parse', '--short=7', 'HEAD') };
}

/** Imports `r` with a results.tsv that adds a discard row naming the private commit (an attacker can enumerate short prefixes). */
async function attempt(r: Run, commit: string): Promise<unknown> {
  const state = await mkdtemp(join(tmpdir(), 'swarm-import-state-'));
  const store = await openStore(join(state, 'db'));
  cleanups.push(() => rm(state, { recursive: true, force: true }), () => store.close());
  const workspace = await openWorkspace({ dir: join(state, 'ws.git'), baseline: 'print("ours")\n' });
  await writeFile(join(r.dir, 'results.tsv'), `${r.tsv}${commit}\t1.000000\t44.0\tdiscard\tan idea\n`);
  const out = await importRun({ repo: r.dir, store, workspace }).catch((e: unknown) => e);
  // Whatever happened, no record may hold the private code.
  for (const x of await store.list()) if (x.commit) expect(await workspace.source(x.commit)).not.toContain('PRIVATE_RESEARCH');
  return out;
}

async function run(): Promise<Run> {
  const r = await makeRun();
  cleanups.push(() => r.cleanup());
  return r;
}

describe('swarm import: the foreign object folder reaches nothing outside the repository', () => {
  it('refuses objects/info/alternates (it would lend git another repository\'s objects)', async () => {
    const r = await run();
    const mine = await privateRepo();
    await writeFile(join(r.dir, '.git', 'objects', 'info', 'alternates'), `${join(mine.dir, '.git', 'objects')}\n`);
    // The trap is live: git reading the foreign objects finds the private commit through it.
    expect(await r.git('cat-file', '-t', mine.commit)).toBe('commit');
    const err = await attempt(r, mine.commit);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as Error).message).toMatch(/alternates/);
  });

  it('refuses a link in place of an object folder (objects/pack, a fan-out folder) or of an object file', async () => {
    for (const plant of ['pack', 'fanout', 'file'] as const) {
      const r = await run();
      const mine = await privateRepo();
      const objects = join(r.dir, '.git', 'objects');
      const theirs = join(mine.dir, '.git', 'objects');
      if (plant === 'pack') {
        // The run's own packs become loose objects; its pack folder becomes a link to the private repository's.
        await rename(join(objects, 'pack'), join(r.dir, 'oldpack'));
        for (const f of (await readdir(join(r.dir, 'oldpack'))).filter((n) => n.endsWith('.pack'))) {
          await execa('git', ['unpack-objects', '-q'], { cwd: r.dir, inputFile: join(r.dir, 'oldpack', f) });
        }
        await symlink(join(theirs, 'pack'), join(objects, 'pack'));
      } else {
        // The private commit's objects made loose in a scratch repository, linked into the foreign folder
        // (a whole fan-out folder, or one file each).
        const scratch = join(mine.dir, 'loose.git');
        await execa('git', ['init', '-q', '--bare', scratch]);
        const pack = (await execa('git', ['pack-objects', '--stdout', '--all', '-q'], { cwd: mine.dir, encoding: 'buffer', input: '' })).stdout;
        await execa('git', ['unpack-objects', '-q'], { input: pack, env: { GIT_DIR: scratch, PATH: process.env.PATH ?? '' }, extendEnv: false });
        const loose = join(scratch, 'objects');
        for (const fan of (await readdir(loose)).filter((d) => /^[0-9a-f]{2}$/.test(d))) {
          const here = join(objects, fan);
          if (plant === 'fanout') {
            await rm(here, { recursive: true, force: true });
            await symlink(join(loose, fan), here);
          } else {
            await mkdir(here, { recursive: true });
            for (const f of await readdir(join(loose, fan))) await symlink(join(loose, fan, f), join(here, f)).catch(() => {});
          }
        }
      }
      expect(await r.git('cat-file', '-t', mine.commit)).toBe('commit'); // the trap is live
      const err = await attempt(r, mine.commit);
      expect(err, plant).toBeInstanceOf(ImportError);
      expect((err as Error).message).toMatch(/link/);
    }
  });
});
