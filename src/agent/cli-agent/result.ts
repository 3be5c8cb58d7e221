/**
 * Reading what an agent printed: its last message (where the hypothesis is), the cost it reports, and
 * whether it says it failed. Everything here is the agent's output: parsed defensively, never trusted.
 */

export interface Report {
  /** The agent's final message, or null when it printed none. */
  message: string | null;
  /** Dollars the agent reported spending; null when it reports no cost. */
  costUsd: number | null;
  /** Why the agent says the call failed, or why its output could not be read; null when it did not. */
  error: string | null;
  /** The agent stopped at its own cost cap (Claude Code's --max-budget-usd). */
  overCost?: boolean;
}

/** Claude Code's `--output-format json`: one result object (result, is_error, subtype, total_cost_usd). */
export function readClaude(stdout: string): Report {
  const r = lastObject(stdout);
  if (!r || r.type !== 'result') return garbage('claude', 'JSON result object', stdout);
  const costUsd = finite(r.total_cost_usd);
  const message = typeof r.result === 'string' ? r.result : null;
  // Error results (max turns, budget) carry no `result`, only `errors: [...]`.
  const errors = Array.isArray(r.errors) ? r.errors.filter((e): e is string => typeof e === 'string').join('; ') : '';
  if (r.subtype === 'error_max_budget_usd') return { message, costUsd, error: 'stopped at its cost cap (--max-budget-usd)', overCost: true };
  if (r.is_error === true) return { message, costUsd, error: `reported an error (${String(r.subtype ?? 'is_error')}): ${clip(message ?? errors)}` };
  return { message, costUsd, error: null };
}

/** `codex exec --json`: JSONL events (turn.failed and error carry failures); the last message comes from `-o FILE`. */
export function readCodex(stdout: string, lastMessage: string | null): Report {
  const events = jsonLines(stdout);
  if (events.length === 0) return garbage('codex', 'JSONL events', stdout);
  const failed = events.find((e) => e.type === 'turn.failed' || e.type === 'error');
  const error = failed ? `reported an error: ${clip(errorText(failed))}` : null;
  return { message: lastMessage, costUsd: null, error };
}

/** `opencode run --format json`: JSONL events; text parts make the message, step_finish parts carry cost. */
export function readOpencode(stdout: string): Report {
  const events = jsonLines(stdout);
  if (events.length === 0) return garbage('opencode', 'JSON events', stdout);
  let cost: number | null = null;
  const texts: string[] = [];
  for (const e of events) {
    const part = (e.part ?? {}) as Record<string, unknown>;
    if (e.type === 'text' && typeof part.text === 'string') texts.push(part.text);
    if (e.type === 'step_finish' && finite(part.cost) !== null) cost = (cost ?? 0) + (part.cost as number);
  }
  const failed = events.find((e) => e.type === 'error');
  return { message: texts.length > 0 ? texts.join('\n') : null, costUsd: cost, error: failed ? `reported an error: ${clip(errorText(failed))}` : null };
}

/** aider prints plain text; its cost line reads "Cost: $0.0012 message, $0.0345 session.". */
export function readAider(stdout: string): Report {
  const costs = [...stdout.matchAll(/Cost: \$([\d.]+) message, \$([\d.]+) session/g)].map((m) => Number(m[2]));
  const costUsd = costs.length > 0 && Number.isFinite(costs.at(-1)) ? costs.at(-1)! : null;
  return { message: stdout.trim() === '' ? null : stdout, costUsd, error: null };
}

/** Any other agent (--agent-cmd): its output is its message; no cost. */
export function readPlain(stdout: string): Report {
  return { message: stdout.trim() === '' ? null : stdout, costUsd: null, error: null };
}

/**
 * One line, matched from its start, with nothing that can backtrack: the message is the agent's (up to 8 MiB),
 * and a lazy group before a trailing class (`(.+?)[\s*_]*$`) took quadratic time on `HYPOTHESIS: a____…x`.
 */
const HYPOTHESIS_RE = /^[ \t>*_#-]*HYPOTHESIS[ \t*_]*:(.*)$/is;

/** The HYPOTHESIS line of the agent's message, one line of at most 200 characters; null when it wrote none. */
export function hypothesisOf(message: string | null): string | null {
  for (const raw of message?.split('\n') ?? []) {
    const m = HYPOTHESIS_RE.exec(raw);
    const line = m?.[1]?.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, ' ').replace(/\s+/g, ' ').replace(/^[ *_]+/, '');
    if (line) {
      // The trailing marks by hand: /[ *_]+$/ is quadratic too.
      let end = line.length;
      while (end > 0 && ' *_'.includes(line[end - 1]!)) end--;
      if (end > 0) return clip(line.slice(0, end), 200);
    }
  }
  return null;
}

function garbage(agent: string, wanted: string, stdout: string): Report {
  const seen = stdout.trim() === '' ? 'printed nothing' : `printed no ${wanted} (it began: ${JSON.stringify(clip(stdout.trim(), 80))})`;
  return { message: null, costUsd: null, error: `${agent} ${seen}` };
}

function lastObject(stdout: string): Record<string, unknown> | null {
  const whole = parseObject(stdout.trim());
  if (whole) return whole;
  const lines = jsonLines(stdout);
  return lines.at(-1) ?? null;
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').map((l) => parseObject(l.trim())).filter((o): o is Record<string, unknown> => o !== null);
}

function parseObject(text: string): Record<string, unknown> | null {
  if (!text.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function errorText(e: Record<string, unknown>): string {
  const inner = e.error as { message?: unknown; data?: { message?: unknown } } | string | undefined;
  if (typeof inner === 'string') return inner;
  if (typeof inner?.message === 'string') return inner.message;
  if (typeof inner?.data?.message === 'string') return inner.data.message;
  return typeof e.message === 'string' ? e.message : JSON.stringify(e).slice(0, 200);
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

function clip(s: string, n = 300): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= n ? one : `${one.slice(0, n - 1)}…`;
}
