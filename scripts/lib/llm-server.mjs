// A local server speaking the Anthropic Messages API (POST /v1/messages) for benchmarks driven by the real SDK:
// each reply comes after `delayMs` and is one SEARCH/REPLACE edit of a numeric constant of the train.py in the
// request (the constants taken in turn, each moved by a random factor), like a slow but well-formed LLM.
import { createServer } from 'node:http';

const CONSTANT = /^([A-Z][A-Z0-9_]*) = ([0-9][0-9._eE+-]*)(.*)$/gm;

/** The train.py the prompt shows (its last fenced python block). */
function currentSource(text) {
  const blocks = [...text.matchAll(/(`{3,})python\n([\s\S]*?)\n\1/g)];
  return blocks.at(-1)?.[2] ?? '';
}

function edit(source, turn, rng) {
  const lines = [...source.matchAll(CONSTANT)].filter((m) => !/SEED|BUDGET/.test(m[1]));
  if (lines.length === 0) return 'HYPOTHESIS: nothing to change\n';
  const m = lines[turn % lines.length];
  const value = Number(m[2]);
  const isInt = !/[.eE]/.test(m[2]);
  const factor = Math.exp((rng() - 0.5) * 0.8);
  let next = isInt ? String(Math.max(1, Math.round(value * factor) + (rng() < 0.5 ? 1 : -1))) : String(Number((value * factor).toPrecision(4)));
  if (!isInt && !/[.e]/.test(next)) next += '.0';
  if (/RATIO|BETA/.test(m[1]) && !isInt) next = String(Math.min(0.999, Math.max(0.001, Number(next))));
  if (Number(next) === value) next = isInt ? String(value + 1) : String(Number((value * 1.1).toPrecision(4)));
  return `HYPOTHESIS: move ${m[1]} from ${m[2]} to ${next}\n\n<<<<<<< SEARCH\n${m[0]}\n=======\n${m[1]} = ${next}${m[3]}\n>>>>>>> REPLACE\n`;
}

/** Starts the server on 127.0.0.1; `url` is the SDK's baseURL (without /v1). `requests` counts replies. */
export async function slowAnthropicServer({ delayMs, seed = 1 }) {
  let state = seed >>> 0;
  const rng = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  let turn = 0;
  const stats = { requests: 0, busy: 0, maxConcurrent: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
        res.writeHead(404, { 'content-type': 'application/json', 'x-should-retry': 'false' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'no route' } }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      const messages = body.messages ?? [];
      const first = messages[0]?.content;
      const text = typeof first === 'string' ? first : (first ?? []).map((b) => b.text ?? '').join('');
      const reply = edit(currentSource(text), turn++, rng);
      stats.requests += 1;
      stats.busy += 1;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.busy);
      setTimeout(() => {
        stats.busy -= 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          id: `msg_${turn}`, type: 'message', role: 'assistant', model: body.model ?? 'bench', content: [{ type: 'text', text: reply }],
          stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 100, output_tokens: 50 },
        }));
      }, delayMs);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`, stats,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
