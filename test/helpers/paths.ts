import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const TRAINER = join(REPO, 'trainer');
export const STUB_TRAINER = join(REPO, 'test', 'fixtures', 'stub-trainer');
export const CLI = join(REPO, 'dist', 'cli', 'main.js');
/** The Python of scripts/setup.sh, or SWARM_PYTHON. */
export const PYTHON = process.env.SWARM_PYTHON ?? (existsSync(join(REPO, '.venv', 'bin', 'python')) ? join(REPO, '.venv', 'bin', 'python') : 'python3');
/** Data and tokenizer cache shared by all tests, so the sotu tokenizer is trained once per machine. */
export const TEST_CACHE = process.env.SWARM_TEST_CACHE ?? join(REPO, '.cache', 'test');

/** How a test trainer's val_bpb counts: the real harness measures it; stub trainers print their own. */
export function metricOf(trainerDir: string): 'harness' | 'printed' {
  return existsSync(join(trainerDir, 'evaluate.py')) ? 'harness' : 'printed';
}
