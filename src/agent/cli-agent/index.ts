/** Coding agents (Claude Code, Codex, aider, opencode, or any command) as proposers, headless, one call per proposal. */
export { agentProposer } from './proposer.js';
export { PRESET_NAMES, PLACEHOLDERS } from './presets.js';
export { swarmMd } from './swarm-md.js';
