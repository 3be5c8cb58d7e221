/** Any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, llama.cpp, Ollama) through the openai SDK. */
import OpenAI from 'openai';
import { apiError, causeMessage, type ApiFailure } from './api-error.js';
import { llmProposer, type Complete, type EndpointOptions } from './llm.js';
import type { Proposer } from './types.js';

/**
 * apiKey defaults to env OPENAI_API_KEY, else "none" (local servers ignore it); baseURL is with `/v1`,
 * e.g. http://127.0.0.1:11434/v1 for Ollama (a bare host:port gets `/v1` added); max_tokens is sent
 * only when maxTokens is set.
 */
export type OpenAIOptions = EndpointOptions;

const KEY_ENV = 'OPENAI_API_KEY';

export function openaiProposer(opts: OpenAIOptions): Proposer {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const baseURL = withV1(opts.baseURL);
  const client = new OpenAI({
    apiKey: opts.apiKey ?? process.env[KEY_ENV] ?? 'none',
    baseURL, maxRetries: opts.maxRetries ?? 2, timeout: timeoutMs,
  });
  const service = `OpenAI-compatible API at ${client.baseURL}`;

  const complete: Complete = async ({ system, messages, signal }) => {
    try {
      const res = await client.chat.completions.create(
        {
          model: opts.model,
          messages: [{ role: 'system', content: system }, ...messages],
          ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}),
        },
        { signal, timeout: timeoutMs },
      );
      const choice = res.choices?.[0];
      return { text: choice?.message?.content ?? '', truncated: choice?.finish_reason === 'length' };
    } catch (err) {
      throw apiError(describe(err), err);
    }
  };

  function describe(err: unknown): ApiFailure {
    const base = { service, keyEnv: KEY_ENV, model: opts.model, timeoutMs };
    if (err instanceof OpenAI.APIUserAbortError) return { ...base, kind: 'aborted', detail: '' };
    if (err instanceof OpenAI.APIConnectionTimeoutError) return { ...base, kind: 'timeout', detail: '' };
    if (err instanceof OpenAI.APIConnectionError) return { ...base, kind: 'connection', detail: causeMessage(err) };
    if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
      const body = err.error as { message?: unknown } | undefined;
      return { ...base, kind: 'status', status: err.status, detail: typeof body?.message === 'string' ? body.message : err.message };
    }
    return { ...base, kind: 'other', detail: err instanceof Error ? err.message : String(err) };
  }

  return llmProposer({ name: `openai:${opts.model}`, complete, ...(opts.askAgain !== undefined ? { askAgain: opts.askAgain } : {}) });
}

function withV1(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const trimmed = url.replace(/\/+$/, '');
  try {
    return new URL(trimmed).pathname === '/' ? `${trimmed}/v1` : trimmed;
  } catch {
    return trimmed;
  }
}
