/** Runs a train.py under the fixed harness and turns the process into a RunResult. */
import { createWriteStream, constants as fsConstants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import { execa } from 'execa';
import {
  diskError, diskFault, probedDiskError, StateError, TrainerError, type Dataset, type Hardware, type Metrics, type RunOutcome,
} from '../core/index.js';
import { classify, isStrongOomLine } from './classify.js';
import { LineSplitter, RingBuffer } from './lines.js';
import {
  isTrivialExceptionLine, lastExceptionLine, parseFailLine, parseNumber, parseProgress, summaryFields, type Progress,
} from './parse.js';

export type { Progress } from './parse.js';

/** Lines of the log kept in memory and in the result. */
export const LOG_TAIL_LINES = 50;
const MAX_SUMMARY_LINES = 200;
const SETUP_HINT = 'run scripts/setup.sh to create .venv with PyTorch, or point the python setting at a Python that has torch';

export interface RunRequest {
  /** The train.py to run; written to `<runDir>/train.py`. */
  source: string;
  /** Folder for this run (created): train.py and run.log go here; the process runs with it as cwd. */
  runDir: string;
  /** SWARM_SEED; when omitted the trainer's own default applies. */
  seed?: number;
  onProgress?: (p: Progress) => void;
  /**
   * Stops the run: the whole process tree is killed and `run()` REJECTS with `signal.reason`
   * (a DOMException named 'AbortError' unless the caller gave another reason). An aborted run
   * has no outcome: the node is stopping, the run did not crash.
   */
  signal?: AbortSignal;
}

export interface RunResult {
  outcome: RunOutcome;
  /** Set only for outcome 'ok'. */
  metrics: Metrics | null;
  /** Why it crashed or timed out; null for 'ok'. */
  reason: string | null;
  /** Null when the process was ended by a signal. */
  exitCode: number | null;
  logPath: string;
  /** The last LOG_TAIL_LINES lines of the log. */
  logTail: string[];
  startedAt: string;
  endedAt: string;
  wallSeconds: number;
}

export interface Trainer {
  /**
   * Trains one train.py. Resolves with a RunResult for every run that started (ok, crash, timeout);
   * rejects with TrainerError when the trainer cannot run at all (no Python, no torch, no prepare.py),
   * and with the abort reason when `signal` aborts.
   */
  run(req: RunRequest): Promise<RunResult>;
  /** `python prepare.py hardware`, validated; cached per trainer after the first success. */
  hardware(): Promise<Hardware>;
}

export interface PythonTrainerInit {
  /** Python executable (a path, or a name looked up on PATH). Relative paths are from process.cwd(). */
  python: string;
  /** Folder with prepare.py; becomes PYTHONPATH. */
  trainerDir: string;
  cacheDir: string;
  dataset: Dataset;
  /** SWARM_BUDGET_SECONDS: the training time of a run in time mode. */
  budgetSeconds: number;
  /**
   * 'time' (default): train for budgetSeconds. 'tokens': train on budgetTokens tokens (SWARM_BUDGET_TOKENS);
   * an ok run whose summary reports clearly fewer tokens is turned into a crash (its val_bpb does not compare).
   */
  budgetMode?: 'time' | 'tokens';
  /** Tokens per run in tokens mode (a positive integer). */
  budgetTokens?: number;
  /** Hard wall-clock limit; the process tree is killed after it (the reference uses 600). */
  timeoutSeconds: number;
  /** Extra environment for the trainer (e.g. SWARM_DEVICE). The contract's SWARM_* keys always win. */
  env?: Record<string, string>;
  /** Between SIGTERM and SIGKILL of the process group on timeout/abort; default 3. */
  killGraceSeconds?: number;
  /**
   * Seam for a sandbox: turns the command `[python, <runDir>/train.py]` into the one spawned
   * (e.g. `['bwrap', ..., '--', ...cmd]`). cwd and env are still given to the spawned process.
   * Not applied to hardware().
   */
  wrap?: (cmd: string[]) => string[];
}

/** Process groups of runs in flight; killed if this Node process exits while they run. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const g of liveGroups) killGroup(g, 'SIGKILL');
    });
  }
  liveGroups.add(pid);
}

/** Signals a whole process group; false when it no longer exists. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function resolvePython(python: string): string {
  return python.includes('/') || python.includes(path.sep) ? path.resolve(python) : python;
}

async function checkExecutable(python: string): Promise<void> {
  if (!path.isAbsolute(python)) return; // a bare name: the spawn tells us if PATH lacks it
  try {
    await access(python, fsConstants.X_OK);
  } catch (err) {
    throw new TrainerError(`Python not found or not executable: ${python}`, { hint: SETUP_HINT, cause: err });
  }
}

function spawnFailure(python: string, code: string | undefined, message: string | undefined): TrainerError | null {
  if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EPERM') {
    return new TrainerError(`cannot start the trainer (${python}): ${code}`, { hint: SETUP_HINT, cause: new Error(message ?? code) });
  }
  return null;
}

/** A crash that is the environment's fault, not train.py's: no torch, no prepare module. */
function environmentFailure(tail: readonly string[], init: PythonTrainerInit): TrainerError | null {
  const exc = lastExceptionLine(tail);
  const m = exc ? /^ModuleNotFoundError: No module named '(torch|numpy|prepare)'/.exec(exc) : null;
  if (!m) return null;
  const what = m[1] === 'prepare' ? `prepare.py is not in ${init.trainerDir}` : `the Python has no ${m[1]}`;
  return new TrainerError(`the trainer cannot run: ${what} (${exc})`, {
    hint: m[1] === 'prepare' ? 'check the trainer folder setting (it must hold prepare.py)' : SETUP_HINT,
  });
}

class PythonTrainer implements Trainer {
  private readonly python: string;
  private readonly trainerDir: string;
  private readonly cacheDir: string;
  private hw: Promise<Hardware> | null = null;

  constructor(private readonly init: PythonTrainerInit) {
    if (!(init.timeoutSeconds > 0)) throw new TrainerError(`timeoutSeconds must be > 0 (got ${init.timeoutSeconds})`);
    if (init.budgetMode === 'tokens' && !(Number.isSafeInteger(init.budgetTokens) && init.budgetTokens! > 0)) {
      throw new TrainerError(`budgetTokens must be a positive integer in tokens mode (got ${init.budgetTokens})`);
    }
    this.python = resolvePython(init.python);
    this.trainerDir = path.resolve(init.trainerDir);
    this.cacheDir = path.resolve(init.cacheDir);
  }

  private baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    Object.assign(env, this.init.env ?? {});
    const pp = env.PYTHONPATH;
    env.PYTHONPATH = pp ? `${this.trainerDir}${path.delimiter}${pp}` : this.trainerDir;
    env.PYTHONUNBUFFERED = '1';
    env.SWARM_DATASET = this.init.dataset;
    env.SWARM_BUDGET_SECONDS = String(this.init.budgetSeconds);
    if (this.init.budgetMode === 'tokens') env.SWARM_BUDGET_TOKENS = String(this.init.budgetTokens);
    else delete env.SWARM_BUDGET_TOKENS;
    env.SWARM_CACHE_DIR = this.cacheDir;
    return env;
  }

  async run(req: RunRequest): Promise<RunResult> {
    const { signal } = req;
    if (signal?.aborted) throw abortReason(signal);
    await checkExecutable(this.python);

    const runDir = path.resolve(req.runDir);
    // a full or read-only disk stops the node with a clear error; it is not the candidate's crash
    const runFolderError = (doing: string) => async (err: unknown) => {
      throw (await probedDiskError(StateError, err, runDir, doing, path.dirname(runDir))) ?? err;
    };
    await mkdir(runDir, { recursive: true }).catch(runFolderError('create the run folder'));
    const trainPath = path.join(runDir, 'train.py');
    const logPath = path.join(runDir, 'run.log');
    await writeFile(trainPath, req.source, 'utf8').catch(runFolderError(`write ${trainPath}`));

    const env = this.baseEnv();
    if (req.seed !== undefined) env.SWARM_SEED = String(req.seed);
    else delete env.SWARM_SEED;
    // Tells prepare.py it runs under a node, which arms its watchdog against outliving a node killed with -9.
    env.SWARM_RUN_ID = path.basename(req.runDir);

    const baseCmd = [this.python, trainPath];
    const cmd = this.init.wrap ? this.init.wrap(baseCmd) : baseCmd;
    if (cmd.length === 0) throw new TrainerError('the wrap function returned an empty command');

    const tail = new RingBuffer<string>(LOG_TAIL_LINES);
    let summary: string[] | null = null;
    let fail: string | null = null;
    let oomSeen = false;
    const onLine = (line: string): void => {
      tail.push(line);
      if (line.trim() === '---') {
        summary = [line];
        return;
      }
      if (summary && summary.length < MAX_SUMMARY_LINES) summary.push(line);
      if (fail === null) fail = parseFailLine(line);
      if (!oomSeen && isStrongOomLine(line)) oomSeen = true;
      if (req.onProgress) {
        const p = parseProgress(line);
        if (p) {
          try {
            req.onProgress(p);
          } catch {
            // a failing observer must not break the run
          }
        }
      }
    };
    const splitter = new LineSplitter(onLine);

    const log = createWriteStream(logPath, { flags: 'w' });
    // handled at once: a write error (full disk) while the run goes on must not be an unhandled rejection
    const logDone = finished(log).then(() => null, (err: unknown) => diskError(StateError, err, runDir, `write the run log ${logPath}`));
    const startedAt = new Date();
    const t0 = performance.now();

    const sub = execa(cmd[0]!, cmd.slice(1), {
      cwd: runDir,
      env,
      extendEnv: false,
      detached: true,
      cleanup: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      all: true,
      buffer: false,
      reject: false,
      encoding: 'buffer',
    });

    const pid = sub.pid;
    let timedOut = false;
    let aborted = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const graceMs = Math.max(0, (this.init.killGraceSeconds ?? 3) * 1000);
    const stopTree = (): void => {
      if (pid === undefined) return;
      killGroup(pid, 'SIGTERM');
      graceTimer ??= setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
    };
    if (pid !== undefined) trackGroup(pid);
    const timer = setTimeout(() => {
      timedOut = true;
      stopTree();
    }, this.init.timeoutSeconds * 1000);
    const onAbort = (): void => {
      aborted = true;
      stopTree();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // When the main process exits, anything it left behind in its group is garbage: kill it now,
    // so a straggler holding the pipe open cannot stall us until the timeout.
    sub.once('exit', () => {
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    });

    if (sub.all) {
      sub.all.on('data', (chunk: Buffer | string) => splitter.push(chunk));
      sub.all.pipe(log);
      // A log that cannot be written (full disk) makes pipe() stop reading: keep the output flowing
      // to the parser, and stop a run whose log is lost; it then fails with logDone's typed error.
      log.on('error', (err) => {
        sub.all?.resume();
        if (diskFault(err)) stopTree();
      });
    } else {
      log.end();
    }

    let result;
    try {
      result = await sub;
    } finally {
      clearTimeout(timer);
      if (graceTimer) clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      if (pid !== undefined) {
        killGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
      }
    }
    if (!log.writableEnded) log.end();
    const logFailure = await logDone;
    splitter.end();

    const endedAt = new Date();
    const wallSeconds = Math.round((performance.now() - t0)) / 1000;

    const spawnErr = pid === undefined || (result.failed && result.exitCode === undefined && result.signal === undefined)
      ? spawnFailure(cmd[0]!, result.code, result.message)
      : null;
    if (spawnErr) throw spawnErr;
    if (aborted && signal) throw abortReason(signal);
    if (logFailure) throw logFailure;

    const logTail = tail.toArray();
    const exitCode = result.exitCode ?? null;
    const sig = result.signal ?? null;
    if (!timedOut && exitCode !== 0) {
      const envErr = environmentFailure(logTail, this.init);
      if (envErr) throw envErr;
    }
    let verdict = classify({
      exitCode, signal: sig, timedOut, timeoutSeconds: this.init.timeoutSeconds, fail, oomSeen, summary, tail: logTail,
    });
    if (verdict.outcome === 'ok' && this.init.budgetMode === 'tokens') {
      const short = tokenShortfall(summary ?? [], this.init.budgetTokens!);
      if (short) verdict = { outcome: 'crash', metrics: null, reason: short };
    }
    return {
      ...verdict,
      exitCode,
      logPath,
      logTail,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      wallSeconds,
    };
  }

  hardware(): Promise<Hardware> {
    if (!this.hw) {
      this.hw = this.probeHardware();
      this.hw.catch(() => { this.hw = null; });
    }
    return this.hw;
  }

  private async probeHardware(): Promise<Hardware> {
    await checkExecutable(this.python);
    const prepare = path.join(this.trainerDir, 'prepare.py');
    try {
      await access(prepare, fsConstants.R_OK);
    } catch (err) {
      throw new TrainerError(`prepare.py not found in ${this.trainerDir}`, {
        hint: 'check the trainer folder setting (it must hold prepare.py)', cause: err,
      });
    }
    const res = await execa(this.python, [prepare, 'hardware'], {
      cwd: this.trainerDir, env: this.baseEnv(), extendEnv: false, reject: false, stdin: 'ignore',
      timeout: 300_000, all: true, maxBuffer: 10_000_000,
    });
    const spawnErr = res.exitCode === undefined && res.signal === undefined
      ? spawnFailure(this.python, res.code, res.message) : null;
    if (spawnErr) throw spawnErr;
    if (res.exitCode !== 0) {
      const lines = String(res.all ?? '').split(/\r?\n/);
      const exc = lastExceptionLine(lines) ?? lines.filter((l) => l.trim()).slice(-1)[0] ?? '';
      throw new TrainerError(`\`prepare.py hardware\` failed (${res.timedOut ? 'timed out' : `exit ${res.exitCode ?? res.signal}`}): ${exc}`, {
        hint: SETUP_HINT,
      });
    }
    const line = String(res.stdout).split(/\r?\n/).reverse().find((l) => l.trim().startsWith('{'));
    if (!line) throw new TrainerError('`prepare.py hardware` printed no JSON line', { hint: SETUP_HINT });
    return validateHardware(line);
  }
}

/**
 * Tokens mode: why a finished run does not count, or null when it trained its budget. The summary's
 * `total_tokens_M` (million tokens) is read as printed, so its rounding is allowed for: half a unit of
 * its last decimal (exact with the baseline's 6 decimals; 50k tokens for the reference's 1 decimal).
 */
export function tokenShortfall(summary: readonly string[], budgetTokens: number): string | null {
  const printed = summaryFields(summary)?.get('total_tokens_M');
  const trainedM = printed === undefined ? Number.NaN : parseNumber(printed);
  if (!Number.isFinite(trainedM)) return `no total_tokens_M in the summary to check the token budget (${fmtM(budgetTokens / 1e6)} M) against`;
  const decimals = /\.(\d+)/.exec(printed!)?.[1]?.length ?? 0;
  const slackM = 0.5 * 10 ** -decimals;
  if (trainedM + slackM < budgetTokens / 1e6 - 1e-9) {
    return `trained ${printed} M tokens, budget is ${fmtM(budgetTokens / 1e6)} M: stopped before the token budget, so its val_bpb does not compare`;
  }
  return null;
}

function fmtM(m: number): string {
  return String(Number(m.toFixed(6)));
}

/** Parses and checks the JSON line of `prepare.py hardware` against core's Hardware. */
export function validateHardware(line: string): Hardware {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new TrainerError(`\`prepare.py hardware\` printed invalid JSON: ${line.slice(0, 200)}`, { cause: err });
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
    throw new TrainerError(`\`prepare.py hardware\` printed an unexpected object (bad: ${problems.join(', ')}): ${line.slice(0, 200)}`);
  }
  return {
    device: o.device as Hardware['device'], name: o.name as string, count: o.count as number,
    memoryGb: o.memoryGb as number, torch: o.torch as string, cuda: (o.cuda as string | null), python: o.python as string,
  };
}

export function pythonTrainer(init: PythonTrainerInit): Trainer {
  return new PythonTrainer(init);
}

/**
 * Worth one cheap LLM repair: the run crashed on a SyntaxError / IndentationError / TabError / NameError /
 * ImportError / ModuleNotFoundError (the last Python exception in the log tail). Never for OOM, divergence,
 * timeouts or signals.
 */
export function isTrivialError(result: RunResult): boolean {
  if (result.outcome !== 'crash') return false;
  if (result.reason && /out of memory|diverged|killed by signal/.test(result.reason)) return false;
  const exc = lastExceptionLine(result.logTail);
  return exc !== null && isTrivialExceptionLine(exc);
}
