/** The program id: a hash of what makes val_bpb numbers comparable, the budget's mode and amount included. */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/index.js';
import { describeProgram, type ProgramInputs } from '../../src/program/index.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
let base: Omit<ProgramInputs, 'budget'>;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-program-'));
  await mkdir(join(dir, 'trainer'));
  await mkdir(join(dir, 'node_modules', '@stdlib', 'datasets-sotu'), { recursive: true });
  await writeFile(join(dir, 'trainer', 'prepare.py'), 'TIME_BUDGET = 300\n');
  await writeFile(join(dir, 'trainer', 'train.py'), 'print("train")\n');
  await writeFile(join(dir, 'trainer', 'evaluate.py'), 'print("evaluate")\n');
  await writeFile(join(dir, 'trainer', 'kernels.py'), 'def get_kernel(name): pass\n');
  await writeFile(join(dir, 'program.md'), '# program\n');
  await writeFile(join(dir, 'node_modules', '@stdlib', 'datasets-sotu', 'package.json'), '{"version":"0.2.2"}');
  base = {
    preparePath: join(dir, 'trainer', 'prepare.py'), evaluatePath: join(dir, 'trainer', 'evaluate.py'), kernelsPath: join(dir, 'trainer', 'kernels.py'), baselinePath: join(dir, 'trainer', 'train.py'),
    programPath: join(dir, 'program.md'), dataset: 'sotu', nodeModules: join(dir, 'node_modules'),
  };
});

/** The id as docs/protocol.md section 9 defines it. */
function expectedId(
  budget: number, budgetMode: 'time' | 'tokens', evaluateHash: string | null = sha('print("evaluate")\n'),
  kernelsHash: string | null = sha('def get_kernel(name): pass\n'),
): string {
  const fields = {
    v: 1, dataset: 'sotu', budget, budgetMode, prepareHash: sha('TIME_BUDGET = 300\n'), evaluateHash, kernelsHash, baselineHash: sha('print("train")\n'),
    programHash: sha('# program\n'), dataVersion: 'sotu@0.2.2',
  };
  return sha(JSON.stringify(fields)).slice(0, 16);
}

describe('program id', () => {
  it('time mode: the id hashes the seconds and both harness files (as section 9 says)', async () => {
    const p = await describeProgram({ ...base, budget: 300 });
    expect(p.id).toBe(expectedId(300, 'time'));
    expect(p).toMatchObject({ budgetMode: 'time', budget: 300, dataset: 'sotu', dataVersion: 'sotu@0.2.2' });
    // explicit 'time', or a token amount that time mode does not use, give the same id
    expect((await describeProgram({ ...base, budget: 300, budgetMode: 'time', budgetTokens: 1234 })).id).toBe(p.id);
    expect((await describeProgram({ ...base, budget: 60 })).id).not.toBe(p.id);
  });

  it('tokens mode: the id hashes the mode and the token amount, never the seconds', async () => {
    const p = await describeProgram({ ...base, budget: 300, budgetMode: 'tokens', budgetTokens: 2_000_000 });
    expect(p.id).toBe(expectedId(2_000_000, 'tokens'));
    expect(p).toMatchObject({ budgetMode: 'tokens', budget: 2_000_000 });
    expect((await describeProgram({ ...base, budget: 60, budgetMode: 'tokens', budgetTokens: 2_000_000 })).id).toBe(p.id);
    expect((await describeProgram({ ...base, budget: 300, budgetMode: 'tokens', budgetTokens: 1_000_000 })).id).not.toBe(p.id);
    // the same number in the other mode is another program
    const time = await describeProgram({ ...base, budget: 300 });
    const tokens300 = await describeProgram({ ...base, budget: 300, budgetMode: 'tokens', budgetTokens: 300 });
    expect(tokens300.id).not.toBe(time.id);
    expect(new Set([p.id, time.id, tokens300.id]).size).toBe(3);
  });

  it('refuses tokens mode without a positive integer token budget', async () => {
    await expect(describeProgram({ ...base, budget: 300, budgetMode: 'tokens' })).rejects.toThrow(ConfigError);
    await expect(describeProgram({ ...base, budget: 300, budgetMode: 'tokens', budgetTokens: 0 })).rejects.toThrow(/positive integer token budget/);
  });

  it('a foreign harness (no evaluate.py): evaluateHash is null in the hashed JSON, another program than the same files with one', async () => {
    const foreign = await describeProgram({ ...base, budget: 300, evaluatePath: null });
    expect(foreign.evaluateHash).toBeNull();
    expect(foreign.id).toBe(expectedId(300, 'time', null));
    expect(foreign.id).not.toBe((await describeProgram({ ...base, budget: 300 })).id);
  });

  it('the kernels.py on the runs\' path is part of the program: a train.py that imports it depends on it', async () => {
    const none = await describeProgram({ ...base, budget: 300, kernelsPath: null });
    expect(none.kernelsHash).toBeNull();
    expect(none.id).toBe(expectedId(300, 'time', undefined, null));
    const other = join(dirname(base.kernelsPath!), 'kernels-other.py');
    await writeFile(other, 'def get_kernel(name): return None\n');
    const changed = await describeProgram({ ...base, budget: 300, kernelsPath: other });
    expect(new Set([none.id, changed.id, (await describeProgram({ ...base, budget: 300 })).id]).size).toBe(3);
  });
});
