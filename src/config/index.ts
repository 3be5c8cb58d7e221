export {
  loadConfig, repoRoot, envName, CONFIG_KEYS, BUDGET_MODES, DEFAULT_BUDGET_TOKENS, DEFAULT_TOKENS_TIMEOUT,
  type NodeConfig, type ConfigSources, type ProposerKind, type BudgetMode,
} from './config.js';
