/** The agent: proposes the next train.py, from an LLM (Claude, any OpenAI-compatible server), a coding agent run headless, or the offline mutator. */
import { agentProposer } from './cli-agent/index.js';
import { claudeProposer } from './claude.js';
import { mutateProposer } from './mutate.js';
import { openaiProposer } from './openai.js';
import type { Proposer, ProposerConfig } from './types.js';

export type { Exploration } from '../directions/index.js';
export type { ProposalContext, Proposal, RepairRequest, Proposer, ProposerConfig, AgentSettings } from './types.js';
export { agentProposer, PRESET_NAMES as AGENT_PRESETS, PLACEHOLDERS as AGENT_PLACEHOLDERS } from './cli-agent/index.js';
export { mutateProposer, claudeProposer, openaiProposer };
export { parseEdits, applyEdits } from './edits.js';

/** Builds the configured proposer; throws ProposalError('api') when Claude has no API key or the coding agent is not installed. */
export function createProposer(config: ProposerConfig): Proposer {
  switch (config.kind) {
    case 'mutate':
      return mutateProposer(config.seed !== undefined ? { seed: config.seed } : {});
    case 'claude': {
      const { kind: _kind, ...opts } = config;
      return claudeProposer(opts);
    }
    case 'openai': {
      const { kind: _kind, ...opts } = config;
      return openaiProposer(opts);
    }
    case 'agent': {
      const { kind: _kind, ...settings } = config;
      return agentProposer(settings);
    }
  }
}
