/**
 * What a box trains on: src/runner/probe.py, run by the node's Python outside any run. It belongs to
 * the node, not to the harness, so a trainer folder of any shape starts the same way.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { TrainerError, type Hardware } from '../core/index.js';
import { lastExceptionLine } from './parse.js';

// Found beside the sources from src/ (tests) and dist/ alike, like the sandbox's seccomp_filter.py.
const PROBE = fileURLToPath(new URL('../../src/runner/probe.py', import.meta.url));

/** Runs the probe with `python -I` (no PYTHONPATH, no user site, no script folder: a trainer folder cannot shadow torch). */
export async function probeHardware(python: string, env: Record<string, string>, hint: string): Promise<Hardware> {
  const res = await execa(python, ['-I', PROBE], {
    cwd: path.dirname(PROBE), env, extendEnv: false, reject: false, stdin: 'ignore',
    timeout: 300_000, all: true, maxBuffer: 10_000_000,
  });
  if (res.exitCode === undefined && res.signal === undefined) {
    throw new TrainerError(`cannot start the trainer's Python (${python}): ${res.code ?? res.message}`, { hint });
  }
  if (res.exitCode !== 0) {
    const lines = String(res.all ?? '').split(/\r?\n/);
    const exc = lastExceptionLine(lines) ?? lines.filter((l) => l.trim()).slice(-1)[0] ?? '';
    throw new TrainerError(`the hardware probe failed (${res.timedOut ? 'timed out' : `exit ${res.exitCode ?? res.signal}`}): ${exc}`, { hint });
  }
  const line = String(res.stdout).split(/\r?\n/).reverse().find((l) => l.trim().startsWith('{'));
  if (!line) throw new TrainerError('the hardware probe printed no JSON line', { hint });
  return validateHardware(line);
}

/** Parses and checks the probe's JSON line against core's Hardware. */
export function validateHardware(line: string): Hardware {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new TrainerError(`the hardware probe printed invalid JSON: ${line.slice(0, 200)}`, { cause: err });
  }
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof v !== 'object' || v === null) problems.push('not an object');
  else {
    if (o.device !== 'cuda' && o.device !== 'mps' && o.device !== 'cpu') problems.push('device');
    if (typeof o.name !== 'string') problems.push('name');
    if (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 0) problems.push('count');
    if (typeof o.memoryGb !== 'number' || !Number.isFinite(o.memoryGb) || o.memoryGb < 0) problems.push('memoryGb');
    if (typeof o.torch !== 'string') problems.push('torch');
    if (o.cuda !== null && typeof o.cuda !== 'string') problems.push('cuda');
    if (typeof o.python !== 'string') problems.push('python');
  }
  if (problems.length > 0) {
    throw new TrainerError(`the hardware probe printed an unexpected object (bad: ${problems.join(', ')}): ${line.slice(0, 200)}`);
  }
  return {
    device: o.device as Hardware['device'], name: o.name as string, count: o.count as number,
    memoryGb: o.memoryGb as number, torch: o.torch as string, cuda: (o.cuda as string | null), python: o.python as string,
  };
}
