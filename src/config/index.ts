export {
  loadConfig, repoRoot, envName, CONFIG_KEYS, BUDGET_MODES, DEFAULT_BUDGET_TOKENS, CPU_BUDGET_TOKENS, DEFAULT_BUDGET_SECONDS, tokensTimeout, resolveBudget,
  type NodeConfig, type ResolvedConfig, type ConfigSources, type ProposerKind, type BudgetMode,
} from './config.js';
export { resolveWorkers } from './workers.js';
