export { loadConfig, repoRoot, CONFIG_KEYS, type NodeConfig, type ConfigSources, type ProposerKind } from './config.js';
