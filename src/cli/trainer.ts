import { dirname, join } from 'node:path';
import { repoRoot, type NodeConfig } from '../config/index.js';
import { pythonTrainer, type Trainer } from '../runner/index.js';
import { detectSandbox, type Sandbox } from '../sandbox/index.js';

/** The trainer a node runs every training with, and the sandbox it found on this box. */
export async function nodeTrainer(config: NodeConfig): Promise<{ trainer: Trainer; sandbox: Sandbox }> {
  const sandbox = await detectSandbox();
  const trainer = pythonTrainer({
    python: config.python, trainerDir: config.trainer, cacheDir: config.cache,
    dataset: config.dataset, budgetSeconds: config.budget, timeoutSeconds: config.timeout,
    budgetMode: config.budgetMode, budgetTokens: config.budgetTokens,
    ...sandboxed(sandbox, config),
  });
  return { trainer, sandbox };
}

/** Runs every training under bubblewrap when it works here; the state folder (and its control socket) stays hidden. */
function sandboxed(sandbox: Sandbox, config: NodeConfig) {
  if (sandbox.kind === 'none') return {};
  return {
    wrap: (cmd: string[]) => sandbox.wrap(cmd, {
      runDir: dirname(cmd[1]!), writable: [config.cache], readonly: [config.trainer, repoRoot()], hide: [config.state], allowGpu: true,
      env: { TORCHINDUCTOR_CACHE_DIR: join(config.cache, 'inductor'), TRITON_CACHE_DIR: join(config.cache, 'triton') },
    }),
  };
}
