/**
 * The part every LLM proposer shares: build the prompt, ask, parse the reply, apply the edits, refuse repeats.
 * Providers (claude.ts, openai.ts) only supply `complete`.
 */
import { ProposalError, sourceHash } from '../core/index.js';
import { applyEdits, parseEdits, type Edit } from './edits.js';
import {
  DEFAULT_BUDGET, REPEAT_FOLLOW_UP, fixFollowUp, proposalMessages, repairMessages,
  type ChatMessage, type PromptBudget, type PromptMessages,
} from './prompt.js';
import type { Proposal, ProposalContext, Proposer, RepairRequest } from './types.js';

export interface CompletionRequest extends PromptMessages { signal?: AbortSignal }
export interface Completion {
  text: string;
  /** The reply stopped at the token limit. */
  truncated: boolean;
}
/** One chat round trip; throws ProposalError('api') on any transport or API failure. */
export type Complete = (req: CompletionRequest) => Promise<Completion>;

/** How a provider's proposer reaches its endpoint; each provider documents its own defaults. */
export interface EndpointOptions {
  model: string;
  /** Defaults to the provider's environment variable. */
  apiKey?: string;
  baseURL?: string;
  maxTokens?: number;
  /** Per request, default 10 minutes. */
  timeoutMs?: number;
  /** SDK retries on 408/409/429/5xx and connection errors; default 2. */
  maxRetries?: number;
  /** See LlmProposerOptions.askAgain; default true. */
  askAgain?: boolean;
}

export interface LlmProposerOptions {
  name: string;
  complete: Complete;
  /**
   * When a reply is unusable (no block, an edit that does not apply, a train.py already tried),
   * `propose` tells the model what went wrong and asks once more before giving up. Default true.
   */
  askAgain?: boolean;
  budget?: PromptBudget;
}

export function llmProposer(opts: LlmProposerOptions): Proposer {
  const { name, complete } = opts;
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const askAgain = opts.askAgain ?? true;

  async function ask(system: string, messages: ChatMessage[], signal: AbortSignal | undefined): Promise<Completion> {
    if (signal?.aborted) throw new ProposalError('api', 'request aborted');
    return complete({ system, messages, ...(signal ? { signal } : {}) });
  }

  return {
    name,
    async propose(ctx: ProposalContext): Promise<Proposal> {
      const { system, messages } = proposalMessages(ctx, budget);
      const conversation = [...messages];
      let first: ProposalError | undefined;
      for (;;) {
        const reply = await ask(system, conversation, ctx.signal);
        try {
          return interpret(name, reply, ctx, null);
        } catch (err) {
          if (!(err instanceof ProposalError) || err.kind === 'api') throw err;
          if (first || !askAgain) throw first ? combine(first, err) : err;
          first = err;
          conversation.push(
            { role: 'assistant', content: reply.text.trim() || '(empty reply)' },
            { role: 'user', content: err.kind === 'exhausted' ? REPEAT_FOLLOW_UP : fixFollowUp(err.message) },
          );
        }
      }
    },
    async repair(ctx: ProposalContext, req: RepairRequest): Promise<Proposal> {
      const { system, messages } = repairMessages(ctx, {
        ...(req.reply !== undefined ? { reply: req.reply } : {}), failed: req.failed, error: req.error,
      }, budget);
      return interpret(name, await ask(system, messages, ctx.signal), ctx, req.failed);
    },
  };
}

/**
 * Turns a reply into a proposal against the current train.py. A repair may also have written its blocks
 * against the failed version (fixing a typo in place); that is accepted as a fallback.
 */
function interpret(name: string, reply: Completion, ctx: ProposalContext, failed: Proposal | null): Proposal {
  const cutOff = (err: unknown): unknown =>
    reply.truncated && err instanceof ProposalError
      ? new ProposalError(err.kind, `${err.message} (the reply was cut off at the token limit; raise maxTokens)`, { cause: err })
      : err;
  let parsed;
  try {
    parsed = parseEdits(reply.text);
  } catch (err) {
    throw cutOff(err);
  }
  let source: string | undefined;
  let firstError: unknown;
  for (const base of failed ? [ctx.source, failed.source] : [ctx.source]) {
    try {
      source = applyEdits(base, parsed.edits);
      break;
    } catch (err) {
      firstError ??= err;
    }
  }
  if (source === undefined) throw cutOff(firstError);
  if (source === ctx.source) throw new ProposalError('no-apply', 'the edits leave train.py unchanged');
  const hash = sourceHash(source);
  if (ctx.tried.has(hash) || source === failed?.source) {
    throw new ProposalError('exhausted', `the edit reproduces a train.py that was already tried (sha256 ${hash.slice(0, 12)}…); not running it again`);
  }
  const hypothesis = parsed.hypothesis ?? (failed ? `${failed.hypothesis} (repaired)` : describe(parsed.edits));
  return { hypothesis, source, proposer: name };
}

/** A stand-in hypothesis when the reply gave none: the first line the edit introduces. */
function describe(edits: readonly Edit[]): string {
  for (const e of edits) {
    const before = new Set(e.search.split('\n').map((l) => l.trim()));
    const line = e.replace.split('\n').map((l) => l.trim()).find((l) => l !== '' && !before.has(l));
    if (line) return `(no hypothesis given) ${line.slice(0, 120)}`;
  }
  return '(no hypothesis given)';
}

function combine(first: ProposalError, last: ProposalError): ProposalError {
  return new ProposalError(last.kind, `${last.message} (asked again after: ${first.message})`, { cause: last });
}
