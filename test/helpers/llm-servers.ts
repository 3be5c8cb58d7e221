/**
 * Tiny local servers that speak the Anthropic Messages API and OpenAI chat completions, for driving the real SDKs
 * in tests. Each answers from a script, records every request, and listens on 127.0.0.1 on a free port.
 *
 *   const server = await startAnthropicServer(['HYPOTHESIS: …\n<<<<<<< SEARCH …']);
 *   const p = claudeProposer({ model: 'claude-test', apiKey: 'k', baseURL: server.url });
 *   …; expect(server.requests[0]!.text).toContain('DEPTH = 4'); await server.close();
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A reply text, or a response described in full. */
export type ScriptedReply =
  | string
  | {
      /** The assistant's text (for a 2xx reply). */
      text?: string;
      /** HTTP status; ≥ 400 sends the provider's error JSON with `error` as its message. Default 200. */
      status?: number;
      error?: string;
      /** Extra response headers. Error replies get `retry-after-ms: 1` unless given, so SDK retries are quick. */
      headers?: Record<string, string>;
      /** Wait this long before answering (for timeouts). */
      delayMs?: number;
      /** Mark the reply as cut off at the token limit (stop_reason max_tokens / finish_reason length). */
      truncated?: boolean;
    };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body. */
  body: LlmRequestBody;
  /** System prompt and every message's text, joined: what the model was shown. */
  text: string;
}

export interface LlmRequestBody {
  model?: string;
  max_tokens?: number;
  system?: string | { type: string; text?: string }[];
  messages?: { role: string; content: string | { type: string; text?: string }[] }[];
  [key: string]: unknown;
}

/** A queue of replies (a request past its end gets a 500), or a function of the request and its 0-based index. */
export type Script = readonly ScriptedReply[] | ((req: RecordedRequest, index: number) => ScriptedReply);

export interface LlmServer {
  /** The SDK's baseURL: without /v1 for Anthropic, with /v1 for OpenAI. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Speaks `POST /v1/messages`. */
export function startAnthropicServer(script: Script): Promise<LlmServer> {
  return start(script, {
    path: '/v1/messages',
    urlSuffix: '',
    ok: (body, text, truncated) => ({
      id: `msg_${Math.random().toString(36).slice(2, 14)}`,
      type: 'message',
      role: 'assistant',
      model: body.model ?? 'unknown',
      content: [{ type: 'text', text }],
      stop_reason: truncated ? 'max_tokens' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 100, output_tokens: Math.ceil(text.length / 4) },
    }),
    error: (status, message) => ({ type: 'error', error: { type: anthropicErrorType(status), message } }),
  });
}

/** Speaks `POST /v1/chat/completions`. */
export function startOpenAIServer(script: Script): Promise<LlmServer> {
  return start(script, {
    path: '/v1/chat/completions',
    urlSuffix: '/v1',
    ok: (body, text, truncated) => ({
      id: `chatcmpl-${Math.random().toString(36).slice(2, 14)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? 'unknown',
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: truncated ? 'length' : 'stop' }],
      usage: { prompt_tokens: 100, completion_tokens: Math.ceil(text.length / 4), total_tokens: 100 + Math.ceil(text.length / 4) },
    }),
    error: (status, message) => ({ error: { message, type: status === 401 ? 'invalid_request_error' : 'server_error', param: null, code: status === 401 ? 'invalid_api_key' : null } }),
  });
}

interface Dialect {
  path: string;
  urlSuffix: string;
  ok(body: LlmRequestBody, text: string, truncated: boolean): unknown;
  error(status: number, message: string): unknown;
}

async function start(script: Script, dialect: Dialect): Promise<LlmServer> {
  const requests: RecordedRequest[] = [];
  let served = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: LlmRequestBody = {};
      try { body = raw ? (JSON.parse(raw) as LlmRequestBody) : {}; } catch { /* recorded as {} */ }
      const path = (req.url ?? '/').split('?')[0]!;
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, text: flatten(body) };
      requests.push(recorded);
      if (req.method !== 'POST' || path !== dialect.path) {
        send(res, 404, dialect.error(404, `no route ${req.method} ${path}`), { 'x-should-retry': 'false' });
        return;
      }
      const index = served++;
      const reply: ScriptedReply = typeof script === 'function'
        ? script(recorded, index)
        : script[index] ?? { status: 500, error: `test server: no scripted reply left for request ${index + 1}`, headers: { 'x-should-retry': 'false' } };
      const r = typeof reply === 'string' ? { text: reply } : reply;
      const answer = (): void => {
        const status = r.status ?? 200;
        if (status >= 400) {
          send(res, status, dialect.error(status, r.error ?? `scripted error ${status}`), { 'retry-after-ms': '1', ...r.headers });
        } else {
          send(res, status, dialect.ok(body, r.text ?? '', r.truncated ?? false), r.headers ?? {});
        }
      };
      if (r.delayMs) setTimeout(answer, r.delayMs).unref(); else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${dialect.urlSuffix}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function send(res: ServerResponse, status: number, json: unknown, headers: Record<string, string>): void {
  if (res.destroyed || res.writableEnded) return;
  const data = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

function flatten(body: LlmRequestBody): string {
  const text = (c: string | { type: string; text?: string }[] | undefined): string =>
    typeof c === 'string' ? c : (c ?? []).map((b) => b.text ?? '').join('\n');
  return [text(body.system), ...(body.messages ?? []).map((m) => text(m.content))].filter((s) => s !== '').join('\n\n');
}

function anthropicErrorType(status: number): string {
  switch (status) {
    case 400: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 429: return 'rate_limit_error';
    case 529: return 'overloaded_error';
    default: return 'api_error';
  }
}

/** The API key a request carried: `x-api-key`, or the token of `Authorization: Bearer …` (the Anthropic SDK 1.x sends that). */
export function apiKeyOf(req: RecordedRequest): string | undefined {
  const direct = req.headers['x-api-key'];
  if (typeof direct === 'string') return direct;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
}
