/** Which harness runs a trainer folder, and which baseline a box starts from. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/index.js';
import { baselineOf, trainerLayout } from '../../src/runner/index.js';

let root: string;
let embedded: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'swarm-layout-'));
  embedded = await folder('embedded', ['prepare.py', 'evaluate.py', 'train.py', 'reference/train.py']);
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

async function folder(name: string, files: string[]): Promise<string> {
  const dir = path.join(root, name);
  for (const f of files) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), `# ${name}/${f}\n`);
  }
  return dir;
}

describe('trainerLayout', () => {
  it('a train.py alone runs under the embedded harness; prepare.py + evaluate.py is a harness of ours; prepare.py alone is foreign', async () => {
    const own = await folder('own', ['train.py', 'program.md']);
    expect(await trainerLayout(own, embedded)).toEqual({
      harness: 'swarm', dir: own, train: path.join(own, 'train.py'), harnessDir: embedded,
      prepare: path.join(embedded, 'prepare.py'), evaluate: path.join(embedded, 'evaluate.py'), kernels: null,
    });
    expect(await trainerLayout(embedded, embedded)).toMatchObject({ harness: 'swarm', harnessDir: embedded, evaluate: path.join(embedded, 'evaluate.py') });
    const foreign = await folder('foreign', ['train.py', 'prepare.py']);
    expect(await trainerLayout(foreign, embedded)).toEqual({
      harness: 'foreign', dir: foreign, train: path.join(foreign, 'train.py'), harnessDir: foreign, prepare: path.join(foreign, 'prepare.py'), evaluate: null, kernels: null,
    });
    // `import kernels` finds DIR's own kernels.py first, else the embedded stand-in that follows DIR on PYTHONPATH
    await writeFile(path.join(embedded, 'kernels.py'), '# stand-in\n');
    expect((await trainerLayout(own, embedded)).kernels).toBe(path.join(embedded, 'kernels.py'));
    expect((await trainerLayout(foreign, embedded)).kernels).toBe(path.join(embedded, 'kernels.py'));
    await writeFile(path.join(foreign, 'kernels.py'), '# its own\n');
    expect((await trainerLayout(foreign, embedded)).kernels).toBe(path.join(foreign, 'kernels.py'));
    await rm(path.join(embedded, 'kernels.py'));
  });

  it('refuses an incomplete embedded harness with a ConfigError naming the file', async () => {
    const broken = await folder('broken', ['prepare.py']);
    const own = await folder('own2', ['train.py']);
    await expect(trainerLayout(own, broken)).rejects.toThrow(ConfigError);
    await expect(trainerLayout(own, broken)).rejects.toThrow(`the embedded harness is incomplete: ${path.join(broken, 'evaluate.py')} cannot be read`);
  });
});

describe('a harness folder of its own', () => {
  it('is believed only as the checkout\'s harness byte for byte, or with trustHarness: its prepare.py would run outside the fence', async () => {
    // a hostile fork adds an evaluate.py to escape the fence the foreign layout promises
    const fork = await folder('fork', ['prepare.py', 'evaluate.py', 'train.py']);
    const refused = await trainerLayout(fork, embedded).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).message).toBe(`the trainer folder ${fork} holds a prepare.py and an evaluate.py of its own, unlike the checkout's trainer/`);
    expect((refused as ConfigError).hint).toMatch(/--trust-harness only if it is your own code/);
    expect(await trainerLayout(fork, embedded, true)).toMatchObject({ harness: 'swarm', harnessDir: fork });
    // an exact copy of the checkout's harness is the checkout's harness
    const copy = await folder('copy', ['train.py']);
    for (const f of ['prepare.py', 'evaluate.py']) await writeFile(path.join(copy, f), await readFile(path.join(embedded, f)));
    expect(await trainerLayout(copy, embedded)).toMatchObject({ harness: 'swarm', harnessDir: copy });
    await writeFile(path.join(copy, 'evaluate.py'), '# changed\n');
    await expect(trainerLayout(copy, embedded)).rejects.toThrow(ConfigError);
  });
});

describe('baselineOf', () => {
  it("a harness folder of ours offers reference/train.py on a CUDA box with climbmix only; other folders always their train.py", async () => {
    const ours = await trainerLayout(embedded, embedded);
    expect(await baselineOf(ours, { device: 'cuda' }, 'climbmix')).toBe(path.join(embedded, 'reference', 'train.py'));
    expect(await baselineOf(ours, { device: 'cuda' }, 'sotu')).toBe(path.join(embedded, 'train.py'));
    expect(await baselineOf(ours, { device: 'cpu' }, 'climbmix')).toBe(path.join(embedded, 'train.py'));
    expect(await baselineOf(ours, { device: 'mps' }, 'climbmix')).toBe(path.join(embedded, 'train.py'));
    // A user's train.py under the embedded harness is the user's baseline, on any box.
    const own = await trainerLayout(await folder('own3', ['train.py']), embedded);
    expect(await baselineOf(own, { device: 'cuda' }, 'climbmix')).toBe(own.train);
    // Without reference/train.py (a copy of an older harness), train.py.
    const older = await trainerLayout(await folder('older', ['prepare.py', 'evaluate.py', 'train.py']), embedded, true);
    expect(await baselineOf(older, { device: 'cuda' }, 'climbmix')).toBe(older.train);
    const foreign = await trainerLayout(await folder('foreign2', ['prepare.py', 'train.py', 'reference/train.py']), embedded);
    expect(await baselineOf(foreign, { device: 'cuda' }, 'climbmix')).toBe(foreign.train);
  });
});
