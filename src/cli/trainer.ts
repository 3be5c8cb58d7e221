import type { NodeConfig } from '../config/index.js';
import { pythonTrainer, type Trainer } from '../runner/index.js';
import { defaultLimits, detectFence, type Fence, type FenceLimits } from '../sandbox/index.js';

const GiB = 2 ** 30;

/** The trainer a node runs every training with, and the fence every run of it goes through. */
export async function nodeTrainer(config: NodeConfig): Promise<{ trainer: Trainer; fence: Fence }> {
  const limits = runLimits(config);
  const fence = await detectFence({ python: config.python, limits });
  const trainer = pythonTrainer({
    python: config.python, trainerDir: config.trainer, cacheDir: config.cache,
    dataset: config.dataset, budgetSeconds: config.budget, timeoutSeconds: config.timeout,
    budgetMode: config.budgetMode, budgetTokens: config.budgetTokens, fence, limits, gpu: true,
  });
  return { trainer, fence };
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
