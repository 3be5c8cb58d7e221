/**
 * Runs corpus variants through the node's real trainer (nodeTrainer from src/cli/trainer.ts: the same
 * fence and runner `swarm join` uses) and collects what each one did to the host. See
 * escape.test.ts for what is asserted and why.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, type NodeConfig } from '../../src/config/index.js';
import { nodeTrainer } from '../../src/cli/trainer.js';
import type { RunResult, Trainer } from '../../src/runner/index.js';
import { screenPatch } from '../../src/screen/index.js';
import { PYTHON, REPO, TRAINER } from '../helpers/paths.js';
import { assemble, loadCorpus, type Limit, type Variant, type VariantClass } from './corpus.js';
import { filesUnder, hashTree, restoreFiles, saveFiles, survivors, treeDiff } from './evidence.js';
import { createWorld, readBaseline, worldParent, type World, type WorldSizes } from './world.js';

/**
 * How far below the honest baseline a cheat's recorded val_bpb may land: 0.01 bpb (0.3 % of the ~2.9
 * a one-step run scores). Every run trains the same honest tail with the same seed on the same data
 * and is scored by the same evaluation, so an honest result repeats to float noise (< 1e-4 on CPU);
 * the cheats claim or engineer 0 to ~1.5 bpb, two orders of magnitude past this margin.
 */
export const BPB_TOLERANCE = 0.01;
/** Training tokens per run: one optimizer step of the baseline, so a run is a few seconds. */
const BUDGET_TOKENS = 2048;
const SEED = 42;
/** What RunResult.reason must name when a limit stopped a run. */
const LIMIT_WORDS: Record<Limit, RegExp> = {
  memory: /memory/i, processes: /process|pids|tasks/i, disk: /disk|run folder/i, log: /\blog\b/i, timeout: /timed? ?out|timeout/i,
};
/** Flood sizes: each well past the limit the resource suite configures (SMALL_LIMITS), and safe on a box without any. */
export const FLOODS: WorldSizes = { memBytes: 2 * 2 ** 30, procs: 1200, diskBytes: 1 << 30, logBytes: 200 << 20 };
/** Limits the resource suite asks for (config settings, as `swarm join --memory-limit-gb ...` takes them). */
const SMALL_LIMITS = { memoryLimitGb: '1', processLimit: '256', diskLimitGb: '0.25' } as const;
/** A run log on disk beyond this is a log flood the node kept (the runner caps it at a few MB). */
const MAX_KEPT_LOG = 64 << 20;
/** The cheats that hand the harness a dishonest model: a suite of their own, so the cheats run on two workers. */
export const MODEL_CHEATS = /^cheat-(peek-next|noncausal-sdpa|batch-mix|self-reported-loss|doctor-export)$/;
/** A train.py that only builds the data cache (the node's first run does it, or the node does before it). */
const WARMUP = 'from prepare import get_tokenizer\nget_tokenizer()\nraise SystemExit(0)\n';

export interface SuiteOptions {
  classes: VariantClass[];
  /** The run timeout (s): the honest tail needs ~20-40 s on a 2-core CPU; attacks without it need seconds. */
  timeoutSeconds: number;
  /** Run the honest baseline first and hold cheats to its val_bpb. */
  honestBaseline?: boolean;
  /** Ask the node for small resource limits (the resource suite). */
  smallLimits?: boolean;
  /** Only the variants whose name matches (to split a slow class over files that run in parallel). */
  select?: (name: string) => boolean;
  /** Names the suite in logs. */
  title: string;
}

interface Row {
  variant: string; expect: string; screenRefuses: boolean; outcome: string; bpb: string; reason: string; problems: number;
}

function nodeConfig(w: { state: string; cache: string }, opts: SuiteOptions): NodeConfig {
  return loadConfig({
    cwd: REPO, env: {},
    flags: {
      state: w.state, cache: w.cache, trainer: TRAINER, python: PYTHON, dataset: 'sotu',
      budgetMode: 'tokens', budgetTokens: String(BUDGET_TOKENS), timeout: String(opts.timeoutSeconds),
      ...(opts.smallLimits ? SMALL_LIMITS : {}),
    },
  });
}

/** The node's trainer for this config; nodeTrainer returns more beside it (the fence), only `trainer` is used. */
async function trainerFor(config: NodeConfig): Promise<{ trainer: Trainer; describe: string }> {
  const made = (await nodeTrainer(config)) as unknown as {
    trainer: Trainer; fence?: { describe?: () => string }; sandbox?: { kind: string; reason: string | null };
  };
  const describe = made.fence?.describe?.() ?? (made.sandbox ? `sandbox ${made.sandbox.kind} ${made.sandbox.reason ?? ''}` : 'none described');
  return { trainer: made.trainer, describe };
}

/** Runs with the given variables in the node's own environment (where a node keeps its API keys). */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Signals sent to the node itself are recorded, not obeyed (SIGUSR2 would otherwise end this worker). */
let currentHits: string[] | null = null;
process.on('SIGUSR2', () => currentHits?.push('SIGUSR2 reached the node process'));

function victimState(w: World): string | null {
  const pid = w.victim.pid;
  if (pid === undefined || w.victim.exitCode !== null || w.victim.signalCode !== null) return 'the victim process was killed';
  const status = existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, 'utf8') : '';
  if (/^State:\s+[TtZX]/m.test(status)) return `the victim process was stopped or killed (${/^State:.*$/m.exec(status)?.[0]})`;
  if (/^TracerPid:\s+[1-9]/m.test(status)) return 'the victim process is being traced';
  return null;
}

interface Observed {
  result: RunResult | null;
  error: string | null;
  problems: string[];
}

/** Runs one variant in a fresh world and lists every effect it had outside its run folder. */
async function observe(v: Variant, baseline: string, pristine: string, opts: SuiteOptions, honest: number | null): Promise<Observed> {
  const w = await createWorld({ name: v.name, pristineCache: pristine, baseline, python: PYTHON, sizes: FLOODS });
  const checkout = saveFiles(TRAINER);
  const checkoutTree = hashTree([TRAINER]);
  const watched = [w.home, w.state, w.other, w.cache, TRAINER];
  try {
    const before = hashTree(watched, [w.runDir]);
    const { trainer } = await trainerFor(nodeConfig(w, opts));
    const source = assemble(v, baseline, w.values);
    await mkdir(join(w.state, 'runs'), { recursive: true });
    currentHits = w.hits;
    let result: RunResult | null = null;
    let error: string | null = null;
    try {
      result = await withEnv(w.env, () => trainer.run({ source, runDir: w.runDir, seed: SEED }));
    } catch (err) {
      error = String(err instanceof Error ? `${err.name}: ${err.message}` : err);
    }
    const left = await survivors([w.runDir, basename(w.runDir)], 5000);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    await new Promise((ok) => setTimeout(ok, 300)); // late connections and signals land
    currentHits = null;
    const problems = [
      ...treeDiff(before, hashTree(watched, [w.runDir])).map((d) => `changed outside the run folder: ${d}`),
      ...w.targets.filter((t) => existsSync(t)).map((t) => `created outside: ${t}`),
      ...w.hits,
      ...(victimState(w) ? [victimState(w)!] : []),
      ...left.map((pid) => `process ${pid} of the run survived it`),
      ...leaks(w, result, error),
      ...verdictProblems(v, result, honest),
    ];
    return { result, error, problems };
  } finally {
    currentHits = null;
    if (treeDiff(checkoutTree, hashTree([TRAINER])).length > 0) restoreFiles(TRAINER, checkout);
    await w.close();
  }
}

/** Canaries in anything a record could carry (the result, the run folder's files), and the success reports of syscall probes. */
function leaks(w: World, result: RunResult | null, error: string | null): string[] {
  const out: string[] = [];
  const texts = [{ path: 'RunResult', text: JSON.stringify(result) ?? '' }, { path: 'error', text: error ?? '' }, ...filesUnder(w.runDir)];
  for (const { path, text } of texts) {
    const at = text.indexOf(w.canary);
    if (at >= 0) out.push(`canary ${text.slice(at, at + 40).split(/[^\w-]/)[0]} found in ${path}`);
    const effect = /HOSTILE-EFFECT: ([^\n]*)/.exec(text);
    if (effect && !path.endsWith(".py")) out.push(`the attack reports success in ${path}: ${effect[1]!.slice(0, 120)}`);
  }
  return out;
}

/** Cheats must be measured at their honest value or fail; limits must stop the run and say which. */
function verdictProblems(v: Variant, result: RunResult | null, honest: number | null): string[] {
  if (!result) return [];
  const bpb = result.metrics?.val_bpb;
  const out: string[] = [];
  if (v.cls === 'cheat' && result.outcome === 'ok' && honest !== null && !(bpb !== undefined && bpb >= honest - BPB_TOLERANCE)) {
    out.push(`cheat recorded val_bpb ${bpb} below the honest ${honest.toFixed(6)} - ${BPB_TOLERANCE}`);
  }
  if (v.limit && (result.outcome === 'ok' || !LIMIT_WORDS[v.limit].test(result.reason ?? ''))) {
    out.push(`the ${v.limit} abuse was not stopped by its limit: outcome ${result.outcome}, reason ${JSON.stringify(result.reason)}`);
  }
  if (v.expect === 'crash' && !v.limit && result.outcome === 'ok') out.push(`expected a crash, got ok (val_bpb ${bpb})`);
  const kept = existsSync(result.logPath) ? lstatSync(result.logPath).size : 0;
  if (kept > MAX_KEPT_LOG) out.push(`the node kept a run log of ${kept} bytes`);
  return out;
}

function screenRefuses(v: Variant, baseline: string): boolean {
  const source = assemble(v, baseline, new Proxy({}, { get: (_, k) => `/placeholder/${String(k)}` }));
  return !screenPatch({ files: ['train.py'], diff: '', before: baseline, after: source }).ok;
}

/** Builds the pristine data cache through the node's own trainer (and measures the honest baseline when asked). */
async function prepareSuite(root: string, baseline: string, opts: SuiteOptions): Promise<{ honest: number | null; fence: string }> {
  const w = { state: join(root, 'state'), cache: join(root, 'cache') };
  await mkdir(join(w.state, 'runs'), { recursive: true });
  await execa(PYTHON, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(TRAINER)}); import prepare`], { env: { ...process.env, SWARM_CACHE_DIR: w.cache } });
  const { trainer, describe } = await trainerFor(nodeConfig(w, { ...opts, timeoutSeconds: Math.max(opts.timeoutSeconds, 120) }));
  const r = await withEnv({ HOME: join(root, 'home'), SWARM_DEVICE: 'cpu' }, () =>
    trainer.run({ source: opts.honestBaseline ? baseline : WARMUP, runDir: join(w.state, 'runs', 'baseline'), seed: SEED }));
  if (opts.honestBaseline && r.outcome !== 'ok') throw new Error(`the honest baseline did not finish: ${r.reason}\n${r.logTail.join('\n')}`);
  return { honest: opts.honestBaseline ? r.metrics!.val_bpb : null, fence: describe };
}

/** Registers one test per variant of the given classes. */
export function hostileSuite(opts: SuiteOptions): void {
  const variants = loadCorpus(opts.classes).filter((v) => !opts.select || opts.select(v.name));
  const rows: Row[] = [];
  let root = '';
  let baseline = '';
  let honest: number | null = null;

  beforeAll(async () => {
    baseline = await readBaseline();
    root = await mkdtemp(join(worldParent(), 'swarm-hostile-suite-'));
    const prepared = await prepareSuite(root, baseline, opts);
    honest = prepared.honest;
    console.log(`[hostile ${opts.title}] fence: ${prepared.fence}; honest val_bpb: ${honest ?? 'not measured'}`);
  }, 600_000);

  afterAll(async () => {
    if (rows.length > 0) console.log(`[hostile ${opts.title}]\n${table(rows)}`);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('has variants of every class it covers', () => {
    for (const c of opts.classes) expect(variants.filter((v) => v.cls === c).length).toBeGreaterThanOrEqual(opts.select ? 3 : 4);
  });

  for (const v of variants) {
    it(`${v.name} [${v.expect}${v.limit ? `, ${v.limit}` : ''}]: ${v.attack}`, async () => {
      const o = await observe(v, baseline, join(root, 'cache'), opts, honest);
      rows.push({
        variant: v.name, expect: v.expect, screenRefuses: screenRefuses(v, baseline), outcome: o.result?.outcome ?? 'rejected',
        bpb: o.result?.metrics?.val_bpb?.toFixed(4) ?? '-', reason: (o.result?.reason ?? o.error ?? '').slice(0, 70), problems: o.problems.length,
      });
      expect(o.problems.join('\n'), `${v.name}: ${v.attack}`).toBe('');
    }, 600_000);
  }
}

function table(rows: Row[]): string {
  const head = 'variant | expect | screen refuses | outcome | val_bpb | problems | reason';
  return [head, ...rows.map((r) => `${r.variant} | ${r.expect} | ${r.screenRefuses ? 'yes' : 'no'} | ${r.outcome} | ${r.bpb} | ${r.problems} | ${r.reason}`)].join('\n');
}
