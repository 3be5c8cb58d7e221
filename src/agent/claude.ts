/** Claude through the Anthropic SDK (Messages API). */
import Anthropic from '@anthropic-ai/sdk';
import { ProposalError } from '../core/index.js';
import { apiError, causeMessage, type ApiFailure } from './api-error.js';
import { llmProposer, type Complete, type EndpointOptions } from './llm.js';
import type { Proposer } from './types.js';

/**
 * apiKey defaults to env ANTHROPIC_API_KEY; baseURL is without `/v1` (a trailing `/v1` is dropped) and
 * defaults to the SDK's (env ANTHROPIC_BASE_URL or api.anthropic.com); maxTokens defaults to 8192.
 */
export type ClaudeOptions = EndpointOptions;

const KEY_ENV = 'ANTHROPIC_API_KEY';

/** Throws ProposalError('api') at once when no API key is configured. */
export function claudeProposer(opts: ClaudeOptions): Proposer {
  const apiKey = opts.apiKey ?? process.env[KEY_ENV];
  if (!apiKey) {
    throw new ProposalError('api', `no Anthropic API key — set ${KEY_ENV} (or apiKey in the config), or use the offline "mutate" proposer`, {
      hint: `export ${KEY_ENV}=sk-ant-…`,
    });
  }
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const maxTokens = opts.maxTokens ?? 8192;
  const baseURL = opts.baseURL?.replace(/\/+$/, '').replace(/\/v1$/, '');
  const client = new Anthropic({ apiKey, baseURL, maxRetries: opts.maxRetries ?? 2, timeout: timeoutMs });
  const service = baseURL ? `Anthropic API at ${baseURL}` : 'Anthropic API';

  const complete: Complete = async ({ system, messages, signal }) => {
    try {
      const msg = await client.messages.create(
        { model: opts.model, max_tokens: maxTokens, system, messages },
        { signal, timeout: timeoutMs },
      );
      const text = msg.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      return { text, truncated: msg.stop_reason === 'max_tokens' };
    } catch (err) {
      throw apiError(describe(err), err);
    }
  };

  function describe(err: unknown): ApiFailure {
    const base = { service, keyEnv: KEY_ENV, model: opts.model, timeoutMs };
    if (err instanceof Anthropic.APIUserAbortError) return { ...base, kind: 'aborted', detail: '' };
    if (err instanceof Anthropic.APIConnectionTimeoutError) return { ...base, kind: 'timeout', detail: '' };
    if (err instanceof Anthropic.APIConnectionError) return { ...base, kind: 'connection', detail: causeMessage(err) };
    if (err instanceof Anthropic.APIError && typeof err.status === 'number') {
      return { ...base, kind: 'status', status: err.status, detail: err.apiMessage ?? err.message };
    }
    return { ...base, kind: 'other', detail: err instanceof Error ? err.message : String(err) };
  }

  return llmProposer({ name: `claude:${opts.model}`, complete, ...(opts.askAgain !== undefined ? { askAgain: opts.askAgain } : {}) });
}
