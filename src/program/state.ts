import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/index.js';
import type { Program } from './index.js';

/** What a state folder records about the program it belongs to (the settings, so commands on a stopped node can use them). */
export interface ProgramStamp extends Pick<Program, 'dataset' | 'budgetMode' | 'budget'> {
  id: string;
  label: string;
}

const STAMP = 'program.json';

/** "sotu, 150k tokens": the settings that tell programs apart at a glance. */
export function programLabel(p: Pick<Program, 'dataset' | 'budgetMode' | 'budget'>): string {
  return `${p.dataset}, ${budgetLabel(p)}`;
}

/** "300 s" or "150k tokens". */
export function budgetLabel(p: Pick<Program, 'budgetMode' | 'budget'>): string {
  return p.budgetMode === 'time' ? `${p.budget} s` : tokenLabel(p.budget);
}

export function tokenLabel(n: number): string {
  return n % 1e6 === 0 ? `${n / 1e6}M tokens` : n % 1e3 === 0 ? `${n / 1e3}k tokens` : `${n} tokens`;
}

/**
 * A state folder holds the results of one research program: results measured under another budget
 * or dataset never compare. The first join stamps the folder; a join with another program is
 * refused, naming both, before any run.
 */
export async function bindState(dir: string, program: Program, lastRun: Pick<Program, 'dataset' | 'budgetMode' | 'budget'> | null = null): Promise<void> {
  const path = join(dir, STAMP);
  const mine: ProgramStamp = { id: program.id, label: programLabel(program), dataset: program.dataset, budgetMode: program.budgetMode, budget: program.budget };
  // A folder from before stamps: its last run's dataset and budget stand for its program.
  const held = (await readProgramStamp(dir)) ?? (lastRun && programLabel(lastRun) !== mine.label ? { id: 'unknown', ...lastRun, label: programLabel(lastRun) } : null);
  if (held === null) {
    await mkdir(dir, { recursive: true });
    await writeFile(path, JSON.stringify(mine, null, 2) + '\n');
    return;
  }
  if (held.id === program.id) return;
  throw new ConfigError(
    `the state folder ${dir} holds research program ${held.id} (${held.label}); this join is program ${program.id} (${mine.label}), and results of two programs never mix`,
    { hint: `join with the settings of ${held.id} to continue it, or give this program its own folder: --state ${dir}-${program.id.slice(0, 8)}` },
  );
}

/** The program a state folder belongs to; null before its first join. */
export async function readProgramStamp(dir: string): Promise<ProgramStamp | null> {
  const path = join(dir, STAMP);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<ProgramStamp>;
    if (typeof v.id === 'string' && typeof v.label === 'string' && typeof v.dataset === 'string' && (v.budgetMode === 'time' || v.budgetMode === 'tokens') && typeof v.budget === 'number') {
      return { id: v.id, label: v.label, dataset: v.dataset, budgetMode: v.budgetMode, budget: v.budget };
    }
  } catch {
    // handled below
  }
  throw new ConfigError(`${path} is not a program stamp`, { hint: 'it records which research program the state folder belongs to; restore it, or use another --state folder' });
}
