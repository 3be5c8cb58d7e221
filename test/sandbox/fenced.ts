import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Fence, FenceLimits, FenceSpec } from '../../src/sandbox/index.js';
import { PYTHON } from '../helpers/paths.js';

/** Small limits so that a flood is stopped in a second or two. */
export const SMALL: FenceLimits = { memoryBytes: 256 * 1024 ** 2, processes: 48, cpus: 1, diskBytes: 8 * 1024 ** 2 };

export interface Outcome {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** What onLimit was called with, if it was. */
  onLimit: string | null;
  limitHit: string | null;
  /** The last line of stdout as JSON (most attacks print one). */
  json: Record<string, unknown>;
}

/** A fresh run folder under the system tmpdir (HOME may be there too). */
export function runFolder(): { root: string; runDir: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'swarm-fence-test-'));
  const runDir = join(root, 'run');
  mkdirSync(runDir);
  return { root, runDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Runs `python -c code` through fence.enter() as the runner does (detached, own process group, the
 * returned env only), kills the group when onLimit fires or after `timeoutMs`, then closes the run.
 */
export async function fenced(fence: Fence, code: string, spec: Partial<FenceSpec> & { runDir: string }, timeoutMs = 60_000, args: string[] = []): Promise<Outcome> {
  let onLimit: string | null = null;
  let pid: number | undefined;
  const killGroup = () => {
    try {
      if (pid) process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const run = await fence.enter([PYTHON, '-c', code, ...args], { binds: [], env: {}, python: PYTHON, gpu: false, limits: SMALL, ...spec }, (reason) => {
    onLimit = reason;
    killGroup();
  });
  const sub = execa(run.cmd[0]!, run.cmd.slice(1), { env: run.env, extendEnv: false, detached: true, cleanup: false, reject: false, stdin: 'ignore' });
  pid = sub.pid;
  const timer = setTimeout(killGroup, timeoutMs);
  const r = await sub;
  clearTimeout(timer);
  const limitHit = await run.limitHit();
  await run.close();
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(last) as Record<string, unknown>;
  } catch {
    // not every run prints JSON
  }
  return { exitCode: r.exitCode, signal: r.signal, stdout: r.stdout, stderr: r.stderr, onLimit, limitHit, json };
}

/** Pids whose command line holds `marker` (and starts with `program`, when given). */
export function processesWith(marker: string, program = ''): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      return cmdline.includes(marker) && cmdline.startsWith(program);
    } catch {
      return false;
    }
  }).map(Number);
}
