import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(REPO, 'test/fixtures/trainers');

/** The Python the tests use: SWARM_PYTHON, the repo's .venv, or python3. */
export function testPython(): string {
  if (process.env.SWARM_PYTHON) return process.env.SWARM_PYTHON;
  const venv = path.join(REPO, '.venv/bin/python');
  return existsSync(venv) ? venv : 'python3';
}

export function fixture(name: string): Promise<string> {
  return readFile(path.join(FIXTURES, name), 'utf8');
}

export function tmpDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `swarm-${prefix}-`));
}

/** Is the process alive? A zombie (dead, not yet reaped by init) counts as dead. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    // no /proc entry (or not Linux): fall back to signal 0
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
