/**
 * The LLM's reply format and how it is applied to train.py.
 *
 *   HYPOTHESIS: <one line>
 *   <<<<<<< SEARCH
 *   exact existing lines
 *   =======
 *   replacement lines
 *   >>>>>>> REPLACE
 *
 * Code fences around (or just inside) blocks, CRLF line endings and `<think>` sections are tolerated.
 */
import { ProposalError } from '../core/index.js';

export interface Edit {
  /** Lines to find, joined by "\n" (no trailing newline). */
  search: string;
  /** Lines to put in their place, joined by "\n" ("" deletes the lines). */
  replace: string;
}

export interface ParsedReply {
  /** The HYPOTHESIS line, or null when the reply has none. */
  hypothesis: string | null;
  edits: Edit[];
}

const SEARCH_RE = /^\s*<{5,9}\s*SEARCH\b.*$/i;
const DIVIDER_RE = /^\s*={5,9}\s*$/;
const REPLACE_RE = /^\s*>{5,9}\s*REPLACE\b.*$/i;
const FENCE_RE = /^\s*(```|~~~)/;
const HYPOTHESIS_RE = /^[\s>*_#-]*HYPOTHESIS[\s*_]*:[\s*_]*(.*?)[\s*_]*$/i;
const MAX_HYPOTHESIS = 200;

/** Parses an LLM reply into its hypothesis and edits; throws ProposalError('malformed') when it has no usable block. */
export function parseEdits(reply: string): ParsedReply {
  const text = reply.replace(/\r\n?/g, '\n').replace(/<think>[\s\S]*?<\/think>/gi, '');
  if (text.trim() === '') throw new ProposalError('malformed', 'reply is empty');
  const lines = text.split('\n');
  const edits: Edit[] = [];
  let hypothesis: string | null = null;
  let state: 'outside' | 'search' | 'replace' = 'outside';
  let search: string[] = [];
  let replace: string[] = [];
  for (const line of lines) {
    if (state === 'outside') {
      if (SEARCH_RE.test(line)) {
        state = 'search';
        search = [];
      } else if (REPLACE_RE.test(line)) {
        // A stray marker outside a block: the block's SEARCH line is missing.
        throw new ProposalError('malformed', `block ${edits.length + 1}: "${line.trim()}" without a preceding "<<<<<<< SEARCH" line`);
      } else if (hypothesis === null) {
        const m = HYPOTHESIS_RE.exec(line);
        if (m?.[1]) hypothesis = oneLine(m[1]);
      }
    } else if (state === 'search') {
      if (DIVIDER_RE.test(line)) {
        state = 'replace';
        replace = [];
      } else if (SEARCH_RE.test(line) || REPLACE_RE.test(line)) {
        throw new ProposalError('malformed', `block ${edits.length + 1}: missing "=======" between SEARCH and REPLACE`);
      } else {
        search.push(line);
      }
    } else if (REPLACE_RE.test(line)) {
      const n = edits.length + 1;
      const s = stripFences(search);
      if (s.every((l) => l.trim() === '')) throw new ProposalError('malformed', `block ${n}: the SEARCH section is empty (it must copy existing lines of train.py)`);
      edits.push({ search: s.join('\n'), replace: stripFences(replace).join('\n') });
      state = 'outside';
    } else if (SEARCH_RE.test(line)) {
      throw new ProposalError('malformed', `block ${edits.length + 1}: missing ">>>>>>> REPLACE" before the next SEARCH`);
    } else {
      replace.push(line);
    }
  }
  if (state !== 'outside') {
    const missing = state === 'search' ? '"=======" and ">>>>>>> REPLACE"' : '">>>>>>> REPLACE"';
    throw new ProposalError('malformed', `block ${edits.length + 1}: reply ends before ${missing}`);
  }
  if (edits.length === 0) throw new ProposalError('malformed', 'reply has no SEARCH/REPLACE block');
  return { hypothesis, edits };
}

/**
 * Applies the edits in order, each to the result of the previous ones.
 * A SEARCH must match exactly once: exactly, else ignoring trailing whitespace, else ignoring indentation
 * (the replacement is then re-indented to the matched lines). Throws ProposalError('no-apply').
 */
export function applyEdits(source: string, edits: readonly Edit[]): string {
  const crlf = source.includes('\r\n');
  let lines = (crlf ? source.replace(/\r\n/g, '\n') : source).split('\n');
  const original = lines.join('\n');
  edits.forEach((edit, i) => {
    lines = applyOne(lines, edit, `edit ${i + 1} of ${edits.length}`);
  });
  const result = lines.join('\n');
  if (result === original) throw new ProposalError('no-apply', 'the edits leave train.py unchanged');
  return crlf ? result.replace(/\n/g, '\r\n') : result;
}

type Level = 'exact' | 'trailing' | 'indent';
const NORMALISE: Record<Level, (l: string) => string> = {
  exact: (l) => l,
  trailing: (l) => l.trimEnd(),
  indent: (l) => l.trim(),
};

function applyOne(lines: string[], edit: Edit, label: string): string[] {
  const search = edit.search.split('\n');
  const replace = edit.replace === '' ? [] : edit.replace.split('\n');
  for (const level of ['exact', 'trailing', 'indent'] as const) {
    const at = findAll(lines, search, NORMALISE[level]);
    if (at.length > 1) {
      const where = at.map((i) => i + 1).join(', ');
      throw new ProposalError('no-apply', `${label}: SEARCH text matches ${at.length} places in train.py (lines ${where}); include more surrounding lines so it matches exactly one`);
    }
    if (at.length === 1) {
      const start = at[0]!;
      const body = level === 'indent' ? reindent(replace, search, lines.slice(start, start + search.length)) : replace;
      return [...lines.slice(0, start), ...body, ...lines.slice(start + search.length)];
    }
  }
  throw new ProposalError('no-apply', `${label}: SEARCH text not found in train.py (${describeMiss(lines, search)})`);
}

function findAll(lines: readonly string[], search: readonly string[], norm: (l: string) => string): number[] {
  const want = search.map(norm);
  const found: number[] = [];
  outer: for (let i = 0; i + want.length <= lines.length; i++) {
    for (let j = 0; j < want.length; j++) if (norm(lines[i + j]!) !== want[j]) continue outer;
    found.push(i);
  }
  return found;
}

/** Shifts the replacement by the indentation difference between the SEARCH text and the lines it matched. */
function reindent(replace: readonly string[], search: readonly string[], matched: readonly string[]): string[] {
  const k = search.findIndex((l) => l.trim() !== '');
  if (k < 0) return [...replace];
  const from = leading(search[k]!);
  const to = leading(matched[k]!);
  if (from === to) return [...replace];
  return replace.map((l) => {
    if (l.trim() === '') return l;
    if (l.startsWith(from)) return to + l.slice(from.length);
    const own = leading(l);
    const delta = to.length - from.length;
    return delta > 0 ? to.slice(0, delta) + l : l.slice(Math.min(own.length, -delta));
  });
}

function leading(l: string): string {
  return /^\s*/.exec(l)![0];
}

/** Says where the SEARCH text stops matching train.py, for a message the LLM (and the user) can act on. */
function describeMiss(lines: readonly string[], search: readonly string[]): string {
  const first = search.find((l) => l.trim() !== '') ?? '';
  const norm = NORMALISE.indent;
  let best = { at: -1, len: 0 };
  for (let i = 0; i < lines.length; i++) {
    let n = 0;
    while (n < search.length && i + n < lines.length && norm(lines[i + n]!) === norm(search[n]!)) n++;
    if (n > best.len) best = { at: i, len: n };
  }
  const head = `first line: ${JSON.stringify(clip(first, 80))}`;
  if (best.len === 0) return head;
  const bad = search[best.len]!;
  return `${head}; its first ${best.len} line(s) match at line ${best.at + 1}, but SEARCH line ${best.len + 1} ${JSON.stringify(clip(bad, 80))} differs from train.py line ${best.at + best.len + 1} ${JSON.stringify(clip(lines[best.at + best.len] ?? '(end of file)', 80))}`;
}

function oneLine(s: string): string {
  return clip(s.replace(/`/g, '').replace(/\s+/g, ' ').trim(), MAX_HYPOTHESIS);
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** Drops a code fence line at the start and/or end of a section (```python … ```). */
function stripFences(section: string[]): string[] {
  let s = section;
  if (s.length > 0 && FENCE_RE.test(s[0]!)) s = s.slice(1);
  if (s.length > 0 && FENCE_RE.test(s[s.length - 1]!)) s = s.slice(0, -1);
  return s;
}
