/**
 * A trainer folder from someone else (`swarm join --trainer DIR` on a cloned repository) may link its
 * files to the node user's secrets: train.py becomes the baseline the swarm fetches by hash, program.md
 * goes to the agent's model provider. Such links are refused; links within the folder stay fine.
 */
import { mkdtemp, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/index.js';
import { trainerLayout } from '../../src/runner/index.js';
import { repoRoot } from '../../src/config/index.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function folder(): Promise<{ dir: string; secret: string }> {
  const base = await mkdtemp(path.join(tmpdir(), 'swarm-layout-links-'));
  dirs.push(base);
  const secret = path.join(base, 'id_ed25519');
  await writeFile(secret, '-----BEGIN OPENSSH PRIVATE KEY-----\n');
  const dir = path.join(base, 'cloned');
  await mkdir(dir);
  await writeFile(path.join(dir, 'train.py'), 'print("train")\n');
  return { dir, secret };
}

const embedded = path.join(repoRoot(), 'trainer');

describe('trainer folder links', () => {
  it.each(['train.py', 'prepare.py', 'program.md'])('refuses %s linked to a file outside the folder', async (name) => {
    const { dir, secret } = await folder();
    await rm(path.join(dir, name), { force: true });
    await symlink(secret, path.join(dir, name));
    const err = await trainerLayout(dir, embedded).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/leads outside the trainer folder/);
  });

  it('accepts a link within the folder', async () => {
    const { dir } = await folder();
    await writeFile(path.join(dir, 'instructions.md'), 'be brief\n');
    await symlink('instructions.md', path.join(dir, 'program.md'));
    expect(await trainerLayout(dir, embedded)).toMatchObject({ harness: 'swarm', dir });
  });
});
