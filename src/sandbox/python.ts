/**
 * What of the file system an interpreter needs: its prefixes and its sys.path. Probed once per
 * interpreter by running it (outside any fence, as the node, with -I so neither the node's
 * environment nor a user site folder in the real HOME adds paths).
 */
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { execa } from 'execa';
import { SandboxError } from './errors.js';

const PROBE = 'import sys, json; print(json.dumps(sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path})))';

const cache = new Map<string, Promise<string[]>>();

/** The absolute paths (that exist) an interpreter reads its standard library and packages from. */
export function pythonPaths(python: string): Promise<string[]> {
  let p = cache.get(python);
  if (!p) {
    p = probe(python);
    cache.set(python, p);
    p.catch(() => cache.delete(python)); // a failed probe (a venv being built) may work next time
  }
  return p;
}

async function probe(python: string): Promise<string[]> {
  if (!isAbsolute(python)) throw new SandboxError(`the fenced interpreter must be an absolute path, got ${JSON.stringify(python)}`);
  const r = await execa(python, ['-I', '-c', PROBE], { reject: false, timeout: 30_000, stdin: 'ignore', env: { PATH: '/usr/bin:/bin' }, extendEnv: false });
  if (r.exitCode !== 0) {
    throw new SandboxError(`cannot ask ${python} for its paths: ${String(r.stderr || r.shortMessage || `exit code ${r.exitCode}`).trim().split('\n').pop()}`, {
      hint: 'Check that the interpreter runs (scripts/setup.sh builds .venv).',
    });
  }
  const paths = JSON.parse(r.stdout) as unknown;
  if (!Array.isArray(paths)) throw new SandboxError(`${python} printed no path list`);
  return paths.filter((p): p is string => typeof p === 'string' && isAbsolute(p) && existsSync(p));
}
