import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProposalError, sourceHash } from '../../src/core/index.js';
import { claudeProposer, createProposer, openaiProposer, type Proposer, type ProposalContext } from '../../src/agent/index.js';
import { apiKeyOf, startAnthropicServer, startOpenAIServer, type LlmServer, type Script } from '../helpers/llm-servers.js';
import { GOOD_REPLY, HISTORY, NO_APPLY_REPLY, PROGRAM_MD, TRAIN_PY } from './fixtures.js';

const ctx = (over: Partial<ProposalContext> = {}): ProposalContext => ({
  program: PROGRAM_MD, source: TRAIN_PY, history: HISTORY, tried: new Set([sourceHash(TRAIN_PY)]), ...over,
});

async function rejection(p: Promise<unknown>): Promise<ProposalError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProposalError);
  return err as ProposalError;
}

interface Provider {
  label: string;
  start(script: Script): Promise<LlmServer>;
  make(server: LlmServer, extra?: { maxRetries?: number; timeoutMs?: number; askAgain?: boolean }): Proposer;
  name: string;
  /** The roles of the chat turns after the system prompt. */
  roles(server: LlmServer, i: number): string[];
  keyHint: RegExp;
}

const PROVIDERS: Provider[] = [
  {
    label: 'claude (Anthropic SDK)',
    start: startAnthropicServer,
    make: (s, extra = {}) => claudeProposer({ model: 'claude-test', apiKey: 'sk-test-key', baseURL: s.url, ...extra }),
    name: 'claude:claude-test',
    roles: (s, i) => (s.requests[i]!.body.messages ?? []).map((m) => m.role),
    keyHint: /ANTHROPIC_API_KEY/,
  },
  {
    label: 'openai (openai SDK)',
    start: startOpenAIServer,
    make: (s, extra = {}) => openaiProposer({ model: 'qwen-test', apiKey: 'sk-test-key', baseURL: s.url, ...extra }),
    name: 'openai:qwen-test',
    roles: (s, i) => (s.requests[i]!.body.messages ?? []).map((m) => m.role).filter((r) => r !== 'system'),
    keyHint: /OPENAI_API_KEY/,
  },
];

describe.each(PROVIDERS)('$label', (provider) => {
  let server: LlmServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('applies a good edit and sends program, train.py, history, failures, model and key', async () => {
    server = await provider.start([GOOD_REPLY]);
    const p = provider.make(server);
    expect(p.name).toBe(provider.name);
    const proposal = await p.propose(ctx());
    expect(proposal).toEqual({
      hypothesis: 'raise MATRIX_LR to 0.03 for faster convergence in the short budget',
      source: TRAIN_PY.replace('MATRIX_LR = 0.02', 'MATRIX_LR = 0.03'),
      proposer: provider.name,
    });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.body.model).toBe(provider.name.split(':')[1]);
    if (provider.name.startsWith('claude')) {
      expect(req.path).toBe('/v1/messages');
      expect(apiKeyOf(req)).toBe('sk-test-key');
      expect(req.headers['anthropic-version']).toBeDefined();
      expect(req.body.max_tokens).toBe(8192);
      expect(typeof req.body.system).toBe('string');
    } else {
      expect(req.path).toBe('/v1/chat/completions');
      expect(apiKeyOf(req)).toBe('sk-test-key');
      expect(req.body.messages?.[0]?.role).toBe('system');
    }
    expect(req.text).toContain(PROGRAM_MD.trim());
    expect(req.text).toContain(TRAIN_PY.trimEnd());
    expect(req.text).toContain('| 4 | keep | 0.992100 | one more layer |');
    expect(req.text).toContain('Already tried and failed');
    expect(req.text).toContain('- #2 double the matrix learning rate (discard, 1.002100)');
  });

  it('asks once more after a malformed reply, then gives up with ProposalError(malformed)', async () => {
    server = await provider.start(['I would lower the learning rate.', 'Still no blocks, sorry.']);
    const err = await rejection(provider.make(server).propose(ctx()));
    expect(err.kind).toBe('malformed');
    expect(err.message).toContain('reply has no SEARCH/REPLACE block');
    expect(server.requests).toHaveLength(2);
    expect(provider.roles(server, 1)).toEqual(['user', 'assistant', 'user']);
    expect(server.requests[1]!.text).toContain('I would lower the learning rate.');
    expect(server.requests[1]!.text).toContain('Your reply could not be used');
  });

  it('recovers when the second answer is usable', async () => {
    server = await provider.start([NO_APPLY_REPLY, GOOD_REPLY]);
    const proposal = await provider.make(server).propose(ctx());
    expect(proposal.source).toContain('MATRIX_LR = 0.03');
    expect(server.requests[1]!.text).toContain('SEARCH text not found in train.py');
  });

  it('reports an edit that does not apply as ProposalError(no-apply) with the failing line', async () => {
    server = await provider.start([NO_APPLY_REPLY]);
    const err = await rejection(provider.make(server, { askAgain: false }).propose(ctx()));
    expect(err.kind).toBe('no-apply');
    expect(err.message).toBe('edit 1 of 1: SEARCH text not found in train.py (first line: "        x = torch.gelu(x)")');
    expect(server.requests).toHaveLength(1);
  });

  it('never returns a train.py already tried: ProposalError(exhausted)', async () => {
    server = await provider.start([GOOD_REPLY, GOOD_REPLY]);
    const tried = new Set([sourceHash(TRAIN_PY), sourceHash(TRAIN_PY.replace('MATRIX_LR = 0.02', 'MATRIX_LR = 0.03'))]);
    const err = await rejection(provider.make(server).propose(ctx({ tried })));
    expect(err.kind).toBe('exhausted');
    expect(err.message).toContain('already tried');
    expect(server.requests[1]!.text).toContain('already tried. Propose a different idea');
  });

  it('repairs an edit that did not apply: the request carries the reply and the error', async () => {
    server = await provider.start([GOOD_REPLY]);
    const p = provider.make(server);
    const proposal = await p.repair!(ctx(), { failed: null, reply: NO_APPLY_REPLY, error: 'edit 1 of 1: SEARCH text not found in train.py (first line: "        x = torch.gelu(x)")' });
    expect(proposal.source).toBe(TRAIN_PY.replace('MATRIX_LR = 0.02', 'MATRIX_LR = 0.03'));
    expect(provider.roles(server, 0)).toEqual(['user', 'assistant', 'user']);
    expect(server.requests[0]!.text).toContain('SEARCH text not found in train.py');
    expect(server.requests[0]!.text).toContain('torch.gelu(x)');
  });

  it('repairs a run that crashed: the request carries the failed diff and the log tail', async () => {
    const broken = TRAIN_PY.replace('x = torch.relu(x).square()', 'x = gelu(x)');
    const fix = 'HYPOTHESIS: gelu activation (fixed import)\n<<<<<<< SEARCH\n        x = torch.relu(x).square()\n=======\n        x = torch.nn.functional.gelu(x)\n>>>>>>> REPLACE\n';
    server = await provider.start([fix]);
    const log = 'Traceback (most recent call last):\n  File "train.py", line 27, in forward\nNameError: name \'gelu\' is not defined';
    const proposal = await provider.make(server).repair!(ctx(), { failed: { hypothesis: 'gelu activation', source: broken, proposer: provider.name }, error: log });
    expect(proposal.source).toBe(TRAIN_PY.replace('x = torch.relu(x).square()', 'x = torch.nn.functional.gelu(x)'));
    expect(proposal.hypothesis).toBe('gelu activation (fixed import)');
    const text = server.requests[0]!.text;
    expect(text).toContain("NameError: name 'gelu' is not defined");
    expect(text).toContain('+        x = gelu(x)');
    expect(text).toContain('Its hypothesis was: gelu activation');
  });

  it('accepts a repair written against the failed version (a fix in place)', async () => {
    const broken = TRAIN_PY.replace('x = torch.relu(x).square()', 'x = gelu(x)');
    server = await provider.start(['<<<<<<< SEARCH\n        x = gelu(x)\n=======\n        x = torch.nn.functional.gelu(x)\n>>>>>>> REPLACE']);
    const proposal = await provider.make(server).repair!(ctx(), { failed: { hypothesis: 'gelu', source: broken, proposer: provider.name }, error: 'NameError' });
    expect(proposal.source).toContain('x = torch.nn.functional.gelu(x)');
    expect(proposal.hypothesis).toBe('gelu (repaired)');
  });

  it('maps HTTP 500 to ProposalError(api) after bounded retries', async () => {
    server = await provider.start(() => ({ status: 500, error: 'upstream exploded' }));
    const started = Date.now();
    const err = await rejection(provider.make(server).propose(ctx()));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.kind).toBe('api');
    expect(err.message).toContain('error 500: upstream exploded');
    expect(server.requests).toHaveLength(3);
  });

  it('maps HTTP 401 to ProposalError(api) naming the key variable, without retrying', async () => {
    server = await provider.start([{ status: 401, error: 'invalid x-api-key' }]);
    const err = await rejection(provider.make(server).propose(ctx()));
    expect(err.kind).toBe('api');
    expect(err.message).toMatch(/API.* error 401: invalid x-api-key — set /);
    expect(err.message).toMatch(provider.keyHint);
    expect(server.requests).toHaveLength(1);
  });

  it('times out a server that never answers', async () => {
    server = await provider.start([{ text: GOOD_REPLY, delayMs: 3_000 }]);
    const started = Date.now();
    const err = await rejection(provider.make(server, { timeoutMs: 200, maxRetries: 0 }).propose(ctx()));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.kind).toBe('api');
    expect(err.message).toContain('no reply within');
  });

  it('reports a server that is not there', async () => {
    const gone = await provider.start([]);
    await gone.close();
    const err = await rejection(provider.make(gone, { maxRetries: 0 }).propose(ctx()));
    expect(err.kind).toBe('api');
    expect(err.message).toContain('cannot connect');
  });

  it('stops when the signal is aborted', async () => {
    server = await provider.start([{ text: GOOD_REPLY, delayMs: 3_000 }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await rejection(provider.make(server).propose(ctx({ signal: controller.signal })));
    expect(err.kind).toBe('api');
    expect(err.message).toContain('aborted');
  });

  it('says when a reply was cut off at the token limit', async () => {
    server = await provider.start([{ text: 'HYPOTHESIS: x\n<<<<<<< SEARCH\nMATRIX_LR = 0.02\n=====', truncated: true }]);
    const err = await rejection(provider.make(server, { askAgain: false }).propose(ctx()));
    expect(err.kind).toBe('malformed');
    expect(err.message).toContain('raise maxTokens');
  });
});

describe('provider configuration', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.ANTHROPIC_API_KEY;
    else process.env.ANTHROPIC_API_KEY = saved;
  });

  it('refuses Claude without an API key, with a hint', () => {
    let err: unknown;
    try {
      createProposer({ kind: 'claude', model: 'claude-sonnet-4-5' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProposalError);
    expect((err as ProposalError).kind).toBe('api');
    expect((err as ProposalError).message).toContain('set ANTHROPIC_API_KEY');
  });

  it('takes the key from ANTHROPIC_API_KEY and drops a /v1 from the Anthropic baseURL', async () => {
    process.env.ANTHROPIC_API_KEY = 'sk-from-env';
    const server = await startAnthropicServer([GOOD_REPLY]);
    try {
      const p = createProposer({ kind: 'claude', model: 'claude-x', baseURL: `${server.url}/v1` });
      await p.propose(ctx());
      expect(server.requests[0]!.path).toBe('/v1/messages');
      expect(apiKeyOf(server.requests[0]!)).toBe('sk-from-env');
    } finally {
      await server.close();
    }
  });

  it('adds /v1 to a bare OpenAI-compatible baseURL and sends max_tokens only when set', async () => {
    const server = await startOpenAIServer([GOOD_REPLY, GOOD_REPLY]);
    try {
      const bare = server.url.replace(/\/v1$/, '');
      await createProposer({ kind: 'openai', model: 'llama', baseURL: bare }).propose(ctx());
      await createProposer({ kind: 'openai', model: 'llama', baseURL: server.url, maxTokens: 1234 }).propose(ctx());
      expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
      expect(server.requests[0]!.body.max_tokens).toBeUndefined();
      expect(server.requests[1]!.body.max_tokens).toBe(1234);
    } finally {
      await server.close();
    }
  });

  it('builds the offline mutator', () => {
    expect(createProposer({ kind: 'mutate', seed: 1 }).name).toBe('mutate');
    expect(createProposer({ kind: 'mutate' }).repair).toBeUndefined();
  });
});
