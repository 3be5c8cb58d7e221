/**
 * Runs one agent call (execa, no shell): stdin from /dev/null, its own process group, a time cap after
 * which the whole group is killed, an optional cost cap watched on its output, bounded output.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { execa } from 'execa';

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Kill the call once the meter reads more than this. */
  maxCostUsd: number | null;
  meter?: (line: string) => number | null;
  /** Output beyond this many bytes per stream ends the call (a runaway agent). */
  maxOutput?: number;
}

export interface RunResult {
  /** How the call ended: on its own, or killed by the node. */
  ended: 'exit' | 'timeout' | 'aborted' | 'over-cost' | 'output';
  exitCode: number | null;
  /** The agent could not be started (not installed, not executable). */
  startError: string | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** The highest cost the meter read while it ran. */
  costSeen: number | null;
}

const GRACE_MS = 2_000;
/**
 * Process groups of calls in flight. A detached child outlives its parent (execa's cleanup skips it), so a
 * node that exits mid-call, even on an uncaught error, takes its agents down with it.
 */
const live = new Set<number>();
process.on('exit', () => {
  for (const group of live) killGroup(group, 'SIGKILL');
});
const MAX_OUTPUT = 8 * 1024 * 1024;

export async function runAgent(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  let ended: RunResult['ended'] = 'exit';
  let costSeen: number | null = null;
  const mark = `${MARK}=${randomUUID()}`;
  const child = execa(file, args, {
    cwd: opts.cwd, env: { ...agentEnv(), ...opts.env, [MARK]: mark.slice(MARK.length + 1) }, extendEnv: false, stdin: 'ignore', detached: true,
    reject: false, encoding: 'utf8', maxBuffer: opts.maxOutput ?? MAX_OUTPUT, stripFinalNewline: false,
  });
  const group = child.pid;
  if (group !== undefined) live.add(group);
  // A process the agent left in a session of its own (setsid) escapes the group kill and may hold the pipes open,
  // which execa waits for: once the agent itself has exited, the call ends after a grace whatever holds them.
  child.once('exit', () => setTimeout(() => { child.stdout?.destroy(); child.stderr?.destroy(); }, GRACE_MS).unref());
  const stop = (why: RunResult['ended']) => {
    if (ended !== 'exit') return;
    ended = why;
    killGroup(group, 'SIGTERM');
    setTimeout(() => killGroup(group, 'SIGKILL'), GRACE_MS).unref();
  };
  const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
  const onAbort = () => stop('aborted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  if (opts.meter && opts.maxCostUsd !== null) watchCost(child.stdout, opts.meter, (cost) => {
    costSeen = Math.max(costSeen ?? 0, cost);
    if (cost > opts.maxCostUsd!) stop('over-cost');
  });
  const result = await child;
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  // Whatever the agent left running in the background dies with the call.
  killGroup(group, 'SIGKILL');
  if (group !== undefined) live.delete(group);
  await killMarked(mark);
  const startError = ended === 'exit' && result.failed && result.exitCode === undefined && result.signal === undefined && !result.isMaxBuffer
    ? (result.shortMessage ?? 'it could not be spawned') : null;
  if (result.isMaxBuffer && ended === 'exit') ended = 'output';
  return {
    ended, exitCode: result.exitCode ?? null, startError,
    stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''),
    seconds: (Date.now() - started) / 1000, costSeen,
  };
}

/**
 * The user's environment (the agent's login, its API key, PATH) without the node's own SWARM_* settings: the
 * agent needs none of them, and some are secrets (SWARM_DASHBOARD_TOKEN) it could copy into train.py, which peers see.
 */
function agentEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('SWARM_')));
}

function watchCost(stream: NodeJS.ReadableStream | null, meter: (line: string) => number | null, onCost: (cost: number) => void): void {
  let partial = '';
  stream?.on('data', (chunk: Buffer | string) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    if (partial.length > 64 * 1024) partial = '';
    for (const line of lines) {
      const cost = meter(line);
      if (cost !== null) onCost(cost);
    }
  });
}

/**
 * Linux: the processes that left the call's group (setsid, a double fork) still carry its mark in their
 * environment; they are found in /proc and killed, again until none is left. One that cleared its
 * environment is not found (docs/agents.md).
 */
const MARK = 'SWARM_AGENT_CALL';
async function killMarked(mark: string): Promise<void> {
  if (process.platform !== 'linux') return;
  const needle = Buffer.from(`${mark}\0`);
  for (let round = 0; round < 5; round++) {
    let found = 0;
    for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number)) {
      const environ = await readFile(`/proc/${pid}/environ`).catch(() => null);
      if (pid === process.pid || !environ || !(environ.subarray(0, needle.length).equals(needle) || environ.includes(Buffer.concat([Buffer.from([0]), needle])))) continue;
      found++;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    if (found === 0) return;
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
