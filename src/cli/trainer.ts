import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { repoRoot, resolveBudget, resolveWorkers, type NodeConfig, type ResolvedConfig } from '../config/index.js';
import { ConfigError, type Hardware, type WorkerDevice } from '../core/index.js';
import { describeProgram, type Program } from '../program/index.js';
import {
  baselineOf, defaultForeignCache, pythonTrainer, trainerLayout, type PythonTrainerInit, type Trainer, type TrainerLayout,
} from '../runner/index.js';
import { defaultLimits, detectFence, listGpus, type Fence, type FenceLimits } from '../sandbox/index.js';

const GiB = 2 ** 30;

export interface NodeTrainer {
  trainer: Trainer;
  fence: Fence;
  hardware: Hardware;
  /** One per experiment run at once: a GPU each on CUDA, a share of the CPU otherwise. */
  workers: WorkerDevice[];
  /** The configuration with its budget settled for this box ('auto' → tokens on a CPU, time on a GPU). */
  config: ResolvedConfig;
  /** The trainer folder and its harness (--trainer), and the baseline train.py this box starts from. */
  layout: TrainerLayout;
  baseline: string;
}

/** The trainer a node runs every training with, the fence every run of it goes through, and the budget for this box. */
export async function nodeTrainer(config: NodeConfig): Promise<NodeTrainer> {
  const limits = runLimits(config);
  const fence = await detectFence({ python: config.python, limits });
  const embedded = join(repoRoot(), 'trainer');
  const layout = await trainerLayout(config.trainer, embedded, config.trustHarness);
  const base = {
    python: config.python, trainerDir: layout.harnessDir, cacheDir: config.cache, dataset: config.dataset,
    budgetSeconds: config.budget, fence, limits, gpu: true,
    ...(layout.harness === 'foreign' ? { foreign: { cache: defaultForeignCache(), fallbacks: embedded } } : {}),
  } satisfies Partial<PythonTrainerInit>;
  // The budget depends on the device, which only the trainer's Python can tell.
  const hardware = await pythonTrainer({ ...base, timeoutSeconds: config.timeout ?? 3600 }).hardware();
  const resolved = resolveBudget(foreignBudget(config, layout), hardware.device);
  const workers = resolveWorkers(config, hardware, hardware.device === 'cuda' ? listGpus() : [], nodeThreads());
  // Runs of all workers are in memory at once: the default share of the box is split between them.
  const memoryBytes = config.memoryLimitGb === null ? Math.floor(limits.memoryBytes / workers.length) : limits.memoryBytes;
  const trainer = pythonTrainer({
    ...base, limits: { ...limits, memoryBytes }, hardware, timeoutSeconds: resolved.timeout, budgetMode: resolved.budgetMode, budgetTokens: resolved.budgetTokens,
  });
  return { trainer, fence, hardware, workers, config: resolved, layout, baseline: await baselineOf(layout, hardware, config.dataset) };
}

/**
 * A foreign harness trains for its own TIME_BUDGET (the reference's 300 s) and reads none of ours: time
 * mode, where --budget sets only the run's timeout and the program id. A token budget it would not obey.
 */
function foreignBudget(config: NodeConfig, layout: TrainerLayout): NodeConfig {
  if (layout.harness !== 'foreign') return config;
  if (config.budgetMode === 'tokens') {
    throw new ConfigError(`the foreign harness in ${layout.dir} trains for its own time budget: it has no tokens mode`, {
      hint: 'drop --budget-mode tokens / --budget-tokens, or run its train.py under our harness (a folder without prepare.py)',
    });
  }
  return { ...config, budgetMode: 'time' };
}

/** Threads this node's runs share: its own OMP_NUM_THREADS when set (`swarm demo` splits a box between nodes so), else every core. */
function nodeThreads(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.OMP_NUM_THREADS);
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

/** The fence's defaults for this box, with what the user set instead. */
function runLimits(config: NodeConfig): FenceLimits {
  const d = defaultLimits();
  return {
    memoryBytes: config.memoryLimitGb === null ? d.memoryBytes : Math.floor(config.memoryLimitGb * GiB),
    processes: config.processLimit ?? d.processes,
    cpus: config.cpuLimit ?? d.cpus,
    diskBytes: config.diskLimitGb === null ? d.diskBytes : Math.floor(config.diskLimitGb * GiB),
  };
}

/** The research program this configuration runs (its id names the swarm's topics and stamps the state folder). */
export function researchProgram(config: ResolvedConfig, node: Pick<NodeTrainer, 'layout' | 'baseline'>): Promise<Program> {
  return describeProgram({
    preparePath: node.layout.prepare, evaluatePath: node.layout.evaluate, kernelsPath: node.layout.kernels, baselinePath: node.baseline, programPath: config.program, dataset: config.dataset, budget: config.budget,
    budgetMode: config.budgetMode, budgetTokens: config.budgetTokens, nodeModules: join(repoRoot(), 'node_modules'),
  });
}
