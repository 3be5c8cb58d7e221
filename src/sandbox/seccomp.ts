/**
 * The seccomp layer: a compiled BPF filter that bwrap loads itself (`--seccomp FD`) right before it
 * runs the command, so everything in the run is under it. The filter is made by libseccomp, the
 * library bwrap's own users (Flatpak) build theirs with, through a small Python script
 * (seccomp_filter.py: the rules and why), once per interpreter per node.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { execa } from 'execa';
import { fenceTmp } from './tmp.js';

/** The generator, found from src/ or from the compiled dist/ (both sit two levels under the repo). */
const SCRIPT = fileURLToPath(new URL('../../src/sandbox/seccomp_filter.py', import.meta.url));

const filters = new Map<string, Promise<{ file: string | null; reason: string | null }>>();

/** The filter's file, or why it cannot be made (one line). */
export function seccompFilter(python: string): Promise<{ file: string | null; reason: string | null }> {
  let p = filters.get(python);
  if (!p) {
    p = generate(python);
    filters.set(python, p);
  }
  return p;
}

async function generate(python: string): Promise<{ file: string | null; reason: string | null }> {
  const file = join(fenceTmp(), `seccomp-${filters.size}.bpf`);
  const r = await execa(python, ['-I', SCRIPT, file], { reject: false, timeout: 30_000, stdin: 'ignore', env: { PATH: '/usr/bin:/bin' }, extendEnv: false });
  if (r.exitCode === 0) return { file, reason: null };
  if ((r as { code?: string }).code === 'ENOENT') return { file: null, reason: `no Python to build the filter with (${python} not found)` };
  const last = String(r.stderr || r.shortMessage || `exit code ${r.exitCode}`).trim().split('\n').pop() ?? '';
  return { file: null, reason: last };
}
