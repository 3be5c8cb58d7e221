/** One wording for provider failures, so the user sees the same kind of message for every LLM. */
import { ProposalError } from '../core/index.js';

export interface ApiFailure {
  /** "Anthropic API", "OpenAI-compatible API at http://…". */
  service: string;
  kind: 'aborted' | 'timeout' | 'connection' | 'status' | 'other';
  status?: number;
  detail: string;
  /** The environment variable holding the key, for the 401 hint. */
  keyEnv: string;
  model: string;
  timeoutMs: number;
}

export function apiError(f: ApiFailure, cause: unknown): ProposalError {
  const detail = f.detail.replace(/^\d{3}\s+/, '').replace(/\s+/g, ' ').trim().slice(0, 300);
  switch (f.kind) {
    case 'aborted':
      return new ProposalError('api', `${f.service}: request aborted`, { cause });
    case 'timeout':
      return new ProposalError('api', `${f.service}: no reply within ${Math.round(f.timeoutMs / 1000)} s`, { cause, hint: 'raise timeoutMs, or use a faster model' });
    case 'connection':
      return new ProposalError('api', `${f.service}: cannot connect (${detail || 'connection error'})`, { cause, hint: 'check baseURL and that the server is running' });
    case 'status': {
      const s = f.status ?? 0;
      const hint =
        s === 401 || s === 403 ? `set ${f.keyEnv} (or apiKey in the config) to a valid key`
        : s === 404 ? `check the model name "${f.model}" and baseURL`
        : s === 429 ? 'rate limited: the next experiment will try again'
        : s >= 500 ? 'the service is failing or overloaded: the next experiment will try again'
        : undefined;
      return new ProposalError('api', `${f.service} error ${s}: ${detail || 'no message'}${hint ? ` — ${hint}` : ''}`, { cause, ...(hint ? { hint } : {}) });
    }
    default:
      return new ProposalError('api', `${f.service}: ${detail || 'unknown error'}`, { cause });
  }
}

/** An SDK connection error's message with its underlying cause (ECONNREFUSED …), which the SDK hides. */
export function causeMessage(err: Error): string {
  const cause = err.cause;
  const inner = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : '';
  return inner ? `${err.message}: ${inner}` : err.message;
}
