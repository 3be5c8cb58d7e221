import { repoRoot, type NodeConfig } from '../config/index.js';
import { pythonTrainer, type Trainer } from '../runner/index.js';
import { noFence, type Fence } from '../sandbox/index.js';

/** The trainer a node runs every training with, and the fence every run of it goes through. */
export async function nodeTrainer(config: NodeConfig): Promise<{ trainer: Trainer; fence: Fence }> {
  void repoRoot;
  const fence = noFence('TEMPORARY');
  const trainer = pythonTrainer({
    python: config.python, trainerDir: config.trainer, cacheDir: config.cache,
    dataset: config.dataset, budgetSeconds: config.budget, timeoutSeconds: config.timeout,
    budgetMode: config.budgetMode, budgetTokens: config.budgetTokens, fence, gpu: true,
  });
  return { trainer, fence };
}
