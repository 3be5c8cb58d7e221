/** The proposer interface: what the loop asks of an agent. */
import type { AgentCall, HistoryEntry } from '../core/index.js';
import type { Exploration } from '../directions/index.js';

export type { Exploration };

export interface ProposalContext {
  /** node/program.md: the human's instructions. */
  program: string;
  /** The current best train.py. */
  source: string;
  /** Past experiments (this node's, later the swarm's), failures included, newest last. */
  history: readonly HistoryEntry[];
  /** sourceHash of every train.py already tried, here or by a peer: never propose one of these. */
  tried: ReadonlySet<string>;
  /**
   * The same, for this node's own runs only. A proposer whose drafts cost nothing (the mutator) may
   * avoid only these: a draft a peer already ran is then skipped by the swarm check, visibly and
   * without a run, instead of silently.
   */
  triedHere?: ReadonlySet<string>;
  /** The experiments whose changes the current best train.py holds, oldest first (this node's records). */
  lineage?: readonly HistoryEntry[];
  /**
   * How the swarm's exploration stands (src/directions): whether this node has plateaued, which
   * directions have saturated, which some node is running now, which nobody tried. Keys are bounded
   * identifiers (`MATRIX_LR`, `Block.forward()`), never peer text. Absent: proposers behave as before.
   */
  exploration?: Exploration;
  signal?: AbortSignal;
}

export interface Proposal {
  /** One short line. */
  hypothesis: string;
  /** The full new train.py. */
  source: string;
  /** e.g. "mutate", "claude:claude-sonnet-4-5", "openai:qwen2.5-coder". */
  proposer: string;
  /** Set by the coding-agent proposer: the call's caps and what it took, recorded with the experiment. */
  agent?: AgentCall;
}

/**
 * What went wrong with an earlier attempt: an edit that did not apply (`reply` holds the raw LLM text, `failed` is null),
 * or a run that died on a trivial error (`failed` is what ran, `error` holds the log tail).
 */
export interface RepairRequest {
  failed: Proposal | null;
  reply?: string;
  error: string;
}

export interface Proposer {
  readonly name: string;
  /**
   * Throws ProposalError with a message fit to show the user:
   * - 'malformed': the reply has no usable SEARCH/REPLACE block (or is empty, or a block is unterminated);
   * - 'no-apply': an edit's SEARCH text is missing or ambiguous in train.py, or the edits change nothing;
   * - 'api': the LLM could not be reached or refused (status, key, timeout, abort);
   * - 'exhausted': every proposal it could make was already tried (the mutator ran out of untried neighbours,
   *   or the LLM reproduced a tried train.py even after being told so).
   */
  propose(ctx: ProposalContext): Promise<Proposal>;
  /** One automatic repair attempt (LLM proposers only). */
  repair?(ctx: ProposalContext, req: RepairRequest): Promise<Proposal>;
}

/** How the coding-agent proposer runs the user's own agent (docs/agents.md). */
export interface AgentSettings {
  /** A preset: claude, codex, aider or opencode; null when `command` is given instead. */
  preset: string | null;
  /** --agent-cmd: a command template with placeholders, run without a shell. */
  command: string | null;
  /** Time cap of one call; the agent's whole process group is killed at it. */
  timeoutSeconds: number;
  /** Cost cap of one call, for agents that report cost; null: none. */
  maxCostUsd: number | null;
  /** Passed to the agent's own model flag when set. */
  model?: string;
}

export type ProposerConfig =
  | { kind: 'mutate'; seed?: number }
  | { kind: 'claude'; model: string; apiKey?: string; baseURL?: string; maxTokens?: number; timeoutMs?: number }
  | { kind: 'openai'; model: string; apiKey?: string; baseURL?: string; maxTokens?: number; timeoutMs?: number }
  | ({ kind: 'agent' } & AgentSettings);
