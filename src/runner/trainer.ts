/**
 * Runs a train.py under the fixed harness and turns it into a RunResult: the training process in the
 * fence, then the harness's own evaluation of the model it exported (the val_bpb of record).
 */
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  diskError, probedDiskError, StateError, TrainerError, type Dataset, type Hardware, type Metrics, type RunOutcome, type WorkerDevice,
} from '../core/index.js';
import { CONFIG_KEYS, envName } from '../config/index.js';
import { defaultLimits, findTool, noFence, type Fence, type FenceLimits, type FenceSpec } from '../sandbox/index.js';
import { classify, isStrongOomLine, type Verdict } from './classify.js';
import { dataView, prepareData, type DataManifest, type Phase } from './data.js';
import { checkForeignData, foreignView } from './foreign.js';
import { EXPORT_FOLDER, evaluateExport, type HarnessResult } from './harness.js';
import { LineSplitter, RingBuffer, Screen } from './lines.js';
import { cappedLog } from './log.js';
import {
  isTrivialExceptionLine, lastExceptionLine, parseDrawnTokens, parseFailLine, parseNumber, parseProgress, summaryFields, type Progress,
} from './parse.js';
import { probeHardware } from './probe.js';
import { abortReason, runFenced, type ProcessEnd } from './process.js';

export type { Progress } from './parse.js';

/** Lines of the log kept in memory and in the result. */
export const LOG_TAIL_LINES = 50;
const MAX_SUMMARY_LINES = 200;
const NODE_VARIABLES = new Set(CONFIG_KEYS.map(envName));
const SETUP_HINT = 'run scripts/setup.sh to create .venv with PyTorch, or point the python setting at a Python that has torch';

export interface RunRequest {
  /** The train.py to run; written to `<runDir>/train.py`. */
  source: string;
  /** Folder for this run (created): train.py and run.log go here; the process runs with it as cwd. */
  runDir: string;
  /** SWARM_SEED; when omitted the trainer's own default applies. */
  seed?: number;
  onProgress?: (p: Progress) => void;
  /** The worker's device: the run sees only its GPU, or its share of the CPU threads. Omitted: the whole box. */
  device?: WorkerDevice;
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
  /** The val_bpb train.py printed (its dev-split estimate under the harness); metrics.val_bpb is the harness's. */
  printedValBpb: number | null;
  /** Seconds the harness's evaluation took; null when it did not run (or metric 'printed'). */
  harnessSeconds: number | null;
  /** Set when a foreign harness ran it: metrics.val_bpb is the run's own print, not a measurement. */
  selfReported?: true;
  logPath: string;
  /** The last LOG_TAIL_LINES lines of the log. */
  logTail: string[];
  startedAt: string;
  endedAt: string;
  wallSeconds: number;
  /** The training process's peak memory in MB as the node measured it (ProcessEnd.peakMemoryMb); never the run's own report. */
  peakMemoryMb?: number | null;
}

export interface Trainer {
  /**
   * Trains one train.py. Resolves with a RunResult for every run that started (ok, crash, timeout);
   * rejects with TrainerError when the trainer cannot run at all (no Python, no torch, no prepare.py),
   * and with the abort reason when `signal` aborts.
   */
  run(req: RunRequest): Promise<RunResult>;
  /** The node's hardware probe (src/runner/probe.py), validated; cached per trainer after the first success. */
  hardware(): Promise<Hardware>;
}

export interface PythonTrainerInit {
  /** Python executable (a path, or a name looked up on PATH). Relative paths are from process.cwd(). */
  python: string;
  /** Folder with prepare.py and evaluate.py; becomes PYTHONPATH. */
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
  /** Hard wall-clock limit of the training process; the process tree is killed after it (the reference uses 600). */
  timeoutSeconds: number;
  /** Extra environment for the trainer (e.g. SWARM_DEVICE). The contract's SWARM_* keys always win. */
  env?: Record<string, string>;
  /** Between SIGTERM and SIGKILL of the process group on timeout/abort; default 3. */
  killGraceSeconds?: number;
  /** Every process of a run (training and evaluation) runs in it. Default: no fence (tests of the runner itself). */
  fence?: Fence;
  /** Memory, processes, CPU and disk of each run. Default: defaultLimits() of this box. */
  limits?: FenceLimits;
  /** Bind the GPU device nodes into the fence. */
  gpu?: boolean;
  /**
   * 'harness' (default): val_bpb is measured by trainer/evaluate.py on the model the run exported, and
   * training sees no validation data. 'printed': the summary's own val_bpb counts (stub trainers in tests).
   */
  metric?: 'harness' | 'printed';
  /**
   * A foreign harness in trainerDir (a prepare.py of the reference's kind, no evaluate.py; see layout.ts):
   * metric 'printed', results self-reported, `cache` shown read-only at ~/.cache/autoresearch of each
   * run, and `python prepare.py` run once, fenced and offline, before the first run (foreign.ts).
   * `fallbacks`: a folder placed after trainerDir on PYTHONPATH (read-only), so that the reference's
   * `from kernels import get_kernel` finds our offline stand-in (trainer/kernels.py) unless DIR has its own.
   */
  foreign?: { cache: string; fallbacks: string };
  /** Run log cap in bytes (default MAX_LOG_BYTES). */
  maxLogBytes?: number;
  /** This box's hardware when already probed (e.g. to pick the budget), so it is not probed again. */
  hardware?: Hardware;
}

/** An absolute path: a relative one against the working folder, a bare name through PATH (unchanged when not found). */
function resolvePython(python: string): string {
  if (python.includes('/') || python.includes(path.sep)) return path.resolve(python);
  return findTool(python) ?? python;
}

async function checkExecutable(python: string): Promise<void> {
  // A bare name is looked up here: inside the fence a missing interpreter would only be a crash.
  if (!path.isAbsolute(python)) {
    throw new TrainerError(`Python not found on PATH: ${python}`, { hint: SETUP_HINT });
  }
  try {
    await access(python, fsConstants.X_OK);
  } catch (err) {
    throw new TrainerError(`Python not found or not executable: ${python}`, { hint: SETUP_HINT, cause: err });
  }
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

/**
 * What pins a run to its worker's device. A GPU is named by its UUID when the driver gave one: inside
 * the fence only its /dev/nvidia<N> exists, and an index would count differently there than outside;
 * a UUID means the same GPU either way. PCI order makes a bare index mean nvidia-smi's.
 */
export function deviceEnv(device: WorkerDevice): Record<string, string> {
  const env: Record<string, string> = {};
  if (device.gpu) {
    env.CUDA_DEVICE_ORDER = 'PCI_BUS_ID';
    env.CUDA_VISIBLE_DEVICES = device.gpu.uuid ?? String(device.gpu.index);
  }
  if (device.threads !== null) env.OMP_NUM_THREADS = env.MKL_NUM_THREADS = String(device.threads);
  return env;
}

/** Creates the run folder and writes train.py; a full or read-only disk is the node's error, not the candidate's crash. */
async function writeRunFolder(runDir: string, source: string): Promise<string> {
  const runFolderError = (doing: string) => async (err: unknown) => {
    throw (await probedDiskError(StateError, err, runDir, doing, path.dirname(runDir))) ?? err;
  };
  await mkdir(runDir, { recursive: true }).catch(runFolderError('create the run folder'));
  // A resumed run's folder holds what its last attempt (a peer's code) left: links named train.py or
  // run.log would have the node write through them, so both are removed (never followed) and made anew.
  await Promise.all(['train.py', 'run.log'].map((f) => rm(path.join(runDir, f), { recursive: true, force: true })));
  const trainPath = path.join(runDir, 'train.py');
  await writeFile(trainPath, source, { encoding: 'utf8', flag: 'wx' }).catch(runFolderError(`write ${trainPath}`));
  return trainPath;
}

/** What the runner watches in a training run's output while it runs. */
function watchOutput(onProgress: RunRequest['onProgress'], budgetSeconds: number) {
  const tail = new RingBuffer<string>(LOG_TAIL_LINES);
  const screen = new Screen(tail);
  // Every line from the first `---` on: a stray `---` after the summary block must not hide it.
  const summary = new RingBuffer<string>(MAX_SUMMARY_LINES);
  const seen = { summary: null as string[] | null, fail: null as string | null, oom: false, drawnTokens: null as number | null };
  const splitter = new LineSplitter((line, rewritten) => {
    screen.write(line, rewritten);
    if (seen.summary !== null || line.trim() === '---') {
      summary.push(line);
      seen.summary = summary.toArray();
    }
    seen.fail ??= parseFailLine(line);
    seen.oom ||= isStrongOomLine(line);
    seen.drawnTokens = parseDrawnTokens(line) ?? seen.drawnTokens;
    const p = onProgress ? parseProgress(line, budgetSeconds) : null;
    if (p) {
      try {
        onProgress!(p);
      } catch {
        // a failing observer must not break the run
      }
    }
  });
  return { tail, seen, splitter };
}

class PythonTrainer implements Trainer {
  private readonly python: string;
  private readonly trainerDir: string;
  private readonly cacheDir: string;
  private readonly fence: Fence;
  private hw: Promise<Hardware> | null = null;
  private data: Promise<DataManifest> | null = null;
  private foreignData: Promise<void> | null = null;

  constructor(private readonly init: PythonTrainerInit) {
    if (!(init.timeoutSeconds > 0)) throw new TrainerError(`timeoutSeconds must be > 0 (got ${init.timeoutSeconds})`);
    if (init.budgetMode === 'tokens' && !(Number.isSafeInteger(init.budgetTokens) && init.budgetTokens! > 0)) {
      throw new TrainerError(`budgetTokens must be a positive integer in tokens mode (got ${init.budgetTokens})`);
    }
    this.python = resolvePython(init.python);
    this.trainerDir = path.resolve(init.trainerDir);
    this.cacheDir = path.resolve(init.cacheDir);
    this.fence = init.fence ?? noFence('the runner was given no fence');
    if (init.hardware) this.hw = Promise.resolve(init.hardware);
  }

  /**
   * The trainer's variables: SWARM_* of the node's environment (SWARM_DEVICE, SWARM_TOKENIZER…) except
   * the node's own configuration, then init.env, then the contract. Nothing else of the node's
   * environment reaches a run but the fence's allowlist.
   */
  private contractEnv(cacheDir: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && k.startsWith('SWARM_') && !NODE_VARIABLES.has(k)) env[k] = v;
    }
    Object.assign(env, this.init.env ?? {});
    env.PYTHONPATH = this.init.foreign ? `${this.trainerDir}${path.delimiter}${this.init.foreign.fallbacks}` : this.trainerDir;
    env.PYTHONUNBUFFERED = '1';
    env.SWARM_DATASET = this.init.dataset;
    env.SWARM_BUDGET_SECONDS = String(this.init.budgetSeconds);
    if (this.init.budgetMode === 'tokens') env.SWARM_BUDGET_TOKENS = String(this.init.budgetTokens);
    else delete env.SWARM_BUDGET_TOKENS;
    env.SWARM_CACHE_DIR = cacheDir;
    return env;
  }

  /** Compiled kernels stay in the run folder: a cache shared between runs would let one run plant code for the next. */
  private compileCaches(runDir: string): Record<string, string> {
    return { TORCHINDUCTOR_CACHE_DIR: path.join(runDir, '.inductor'), TRITON_CACHE_DIR: path.join(runDir, '.triton') };
  }

  /** The environment of trusted harness processes run outside the fence (hardware, building the cache). */
  private hostEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    return { ...env, ...this.contractEnv(this.cacheDir) };
  }

  private manifest(): Promise<DataManifest> {
    if (!this.data) {
      this.data = prepareData(this.python, this.trainerDir, this.hostEnv());
      this.data.catch(() => { this.data = null; });
    }
    return this.data;
  }

  /** The run's own val_bpb counts: stub trainers in tests, and every foreign harness. */
  private get printedMetric(): boolean {
    return this.init.metric === 'printed' || this.init.foreign !== undefined;
  }

  /** The fence spec of one phase: its data view, the harness folder, the run folder. */
  private async spec(runDir: string, phase: Phase, device: WorkerDevice | undefined): Promise<FenceSpec> {
    const fenced = this.fence.layers.filesystem === null;
    const view = this.printedMetric ? null : dataView(await this.manifest(), phase);
    const cacheDir = view && fenced ? view.cacheDir : this.cacheDir;
    const foreign = this.init.foreign
      ? [{ src: this.init.foreign.fallbacks }, ...(await foreignView(runDir, this.init.foreign.cache, fenced))]
      : [];
    return {
      runDir, runDirReadonly: phase === 'eval', python: this.python, gpu: this.init.gpu ?? false,
      ...(device?.gpu ? { gpus: [device.gpu.minor] } : {}),
      binds: [{ src: this.trainerDir }, ...(view && fenced ? view.binds : []), ...foreign],
      env: { ...this.contractEnv(cacheDir), ...(device ? deviceEnv(device) : {}) }, limits: this.init.limits ?? defaultLimits(),
    };
  }

  async run(req: RunRequest): Promise<RunResult> {
    if (req.signal?.aborted) throw abortReason(req.signal);
    await checkExecutable(this.python);
    const runDir = path.resolve(req.runDir);
    const trainPath = await writeRunFolder(runDir, req.source);
    const startedAt = new Date();
    await this.foreignReady(runDir, req.device, req.signal);
    const { end, seen, logTail, logPath } = await this.train(runDir, trainPath, req);
    if (!end.timedOut && !end.limit && end.exitCode !== 0) {
      const envErr = environmentFailure(logTail, this.init);
      if (envErr) throw envErr;
    }
    let verdict = this.judge(end, seen, logTail);
    const printed = verdict.metrics?.val_bpb ?? null;
    let harnessSeconds: number | null = null;
    if (verdict.outcome === 'ok' && verdict.metrics && !this.printedMetric) {
      const measured = await this.evaluate(runDir, req.device, req.signal);
      if (measured.ok) {
        verdict = { ...verdict, metrics: { ...verdict.metrics, val_bpb: measured.score.valBpb } };
        harnessSeconds = measured.score.seconds;
      } else {
        verdict = { outcome: 'crash', metrics: null, reason: measured.reason };
      }
    }
    return {
      ...verdict, exitCode: end.exitCode, logPath, logTail, printedValBpb: printed, harnessSeconds,
      ...(this.init.foreign ? { selfReported: true as const } : {}),
      startedAt: startedAt.toISOString(), endedAt: new Date().toISOString(), wallSeconds: end.wallSeconds, peakMemoryMb: end.peakMemoryMb,
    };
  }

  /** A foreign harness's data check (foreign.ts), once per trainer; a failure is the node's error, tried again next time. */
  private foreignReady(runDir: string, device: WorkerDevice | undefined, signal: AbortSignal | undefined): Promise<void> {
    const foreign = this.init.foreign;
    if (!foreign || this.foreignData) return this.foreignData ?? Promise.resolve();
    this.foreignData = this.spec(runDir, 'train', device).then((spec) => checkForeignData({
      cmd: [this.python, path.join(this.trainerDir, 'prepare.py')], spec, fence: this.fence, prepare: path.join(this.trainerDir, 'prepare.py'),
      cache: foreign.cache, timeoutSeconds: this.init.timeoutSeconds, killGraceSeconds: Math.max(0, this.init.killGraceSeconds ?? 3),
      ...(signal ? { signal } : {}),
    }));
    this.foreignData.catch(() => { this.foreignData = null; });
    return this.foreignData;
  }

  /** The training process in the fence, its output parsed as it comes and kept in a capped log. */
  private async train(runDir: string, trainPath: string, req: RunRequest) {
    const spec = await this.spec(runDir, 'train', req.device);
    Object.assign(spec.env, this.compileCaches(runDir));
    if (req.seed !== undefined) spec.env.SWARM_SEED = String(req.seed);
    // Tells prepare.py it runs under a node, which arms its watchdog against outliving a node killed with -9.
    spec.env.SWARM_RUN_ID = path.basename(runDir);
    if (!this.printedMetric) spec.env.SWARM_EXPORT_DIR = path.join(runDir, EXPORT_FOLDER);
    const logPath = path.join(runDir, 'run.log');
    const log = cappedLog(logPath, this.init.maxLogBytes);
    const { tail, seen, splitter } = watchOutput(req.onProgress, this.init.budgetMode === 'tokens' ? Number.NaN : this.init.budgetSeconds);
    let end;
    try {
      end = await runFenced({
        cmd: [this.python, trainPath], spec, fence: this.fence, timeoutSeconds: this.init.timeoutSeconds,
        killGraceSeconds: Math.max(0, this.init.killGraceSeconds ?? 3),
        onOutput: (chunk) => {
          splitter.push(chunk);
          return log.write(chunk) ?? undefined;
        },
        ...(req.signal ? { signal: req.signal } : {}),
      });
    } finally {
      splitter.end();
      const logError = await log.end();
      if (logError && end) throw diskError(StateError, logError, runDir, `write the run log ${logPath}`);
    }
    return { end, seen, logTail: tail.toArray(), logPath };
  }

  /** ok / crash / timeout from what the process did; a fence limit or a short token count is a crash. */
  private judge(end: ProcessEnd, seen: ReturnType<typeof watchOutput>['seen'], tail: string[]): Verdict {
    if (end.limit) return { outcome: 'crash', metrics: null, reason: `stopped by the fence: ${end.limit}` };
    const verdict = classify({
      exitCode: end.exitCode, signal: end.signal, timedOut: end.timedOut, timeoutSeconds: this.init.timeoutSeconds,
      fail: seen.fail, oomSeen: seen.oom, summary: seen.summary, tail,
    });
    if (verdict.outcome === 'ok' && this.init.budgetMode === 'tokens') {
      const short = tokenShortfall(seen.summary ?? [], this.init.budgetTokens!, seen.drawnTokens);
      if (short) return { outcome: 'crash', metrics: null, reason: short };
    }
    return verdict;
  }

  private async evaluate(runDir: string, device: WorkerDevice | undefined, signal: AbortSignal | undefined): Promise<HarnessResult> {
    const spec = await this.spec(runDir, 'eval', device);
    return evaluateExport({
      python: this.python, trainerDir: this.trainerDir, spec, fence: this.fence,
      timeoutSeconds: this.init.timeoutSeconds, killGraceSeconds: Math.max(0, this.init.killGraceSeconds ?? 3),
      ...(signal ? { signal } : {}),
    });
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
    return probeHardware(this.python, this.hostEnv(), SETUP_HINT);
  }
}

/**
 * Tokens mode: why a finished run does not count, or null when it trained its budget. The harness's
 * own count of the training tokens its loader handed out (`harness: N training tokens drawn`) is exact
 * and is used when the run printed it. Otherwise the summary's `total_tokens_M` is read as printed,
 * allowing for its rounding: half a unit of its last decimal (50k tokens for the reference's 1 decimal).
 */
export function tokenShortfall(summary: readonly string[], budgetTokens: number, drawnTokens: number | null = null): string | null {
  if (drawnTokens !== null) {
    return drawnTokens >= budgetTokens ? null
      : `trained ${drawnTokens} tokens, budget is ${budgetTokens}: stopped before the token budget, so its val_bpb does not compare`;
  }
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
