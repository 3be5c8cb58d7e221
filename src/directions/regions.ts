/**
 * Where in train.py a change lands, read from its unified diff: the top-level constant a changed line
 * assigns, else the def/class around it (`Block.forward`). Diffs from peers are hostile: only bounded
 * identifiers come out, and only the first MAX_DIFF_CHARS of a diff are read.
 */
import type { Region } from './types.js';

const MAX_DIFF_CHARS = 64 * 1024;
const MAX_REGIONS = 16;
const IDENT = '[A-Za-z_][A-Za-z0-9_]{0,63}';
/** A top-level assignment (`LR = 0.02`, `LR: float = 0.02`), not a comparison. */
const ASSIGN = new RegExp(`^(${IDENT})\\s*(?::[^=]*)?=(?!=)`);
const DEF = new RegExp(`^(\\s*)(?:async\\s+)?(?:def|class)\\s+(${IDENT})`);
/** git's function-context text after `@@ … @@`. */
const HUNK = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$/;
/** Identifiers that look like constants, for a claim, which carries a hypothesis and no diff. */
const CONSTANT_WORD = /\b[A-Z][A-Z0-9_]{1,63}\b/g;

const indentOf = (line: string) => /^[ \t]*/.exec(line)![0].length;
const keyOf = (r: Region) => (r.kind === 'constant' ? r.name : `${r.name}()`);

/** The key a region is shown and grouped by: `LR` for a constant, `Block.forward()` for code. */
export function regionKey(r: Region): string {
  return keyOf(r);
}

/** What a line at the top level names, when it opens a def/class or assigns a name. */
function topLevel(line: string): Region | null {
  if (indentOf(line) > 0) return null;
  const def = DEF.exec(line);
  if (def) return { kind: 'code', name: def[2]! };
  const assign = ASSIGN.exec(line);
  return assign ? { kind: 'constant', name: assign[1]! } : null;
}

/** The region of a changed line, from the lines above it in its hunk (same side) and the hunk's header. */
function enclosing(line: string, above: readonly string[], header: string): Region {
  const own = topLevel(line);
  if (own) return own;
  let depth = line.trim() === '' ? Infinity : indentOf(line);
  let inner: string | null = null;
  for (let i = above.length - 1; i >= 0; i--) {
    const text = above[i]!;
    if (text.trim() === '' || indentOf(text) >= depth) continue;
    depth = indentOf(text);
    const def = DEF.exec(text);
    if (depth === 0) {
      const top = topLevel(text);
      if (!top) break;
      if (top.kind === 'code' && inner && inner !== top.name) return { kind: 'code', name: `${top.name}.${inner}` };
      return top;
    }
    if (def && inner === null) inner = def[2]!;
  }
  const head = topLevel(header);
  if (head) return head.kind === 'code' && inner && inner !== head.name ? { kind: 'code', name: `${head.name}.${inner}` } : head;
  return inner ? { kind: 'code', name: inner } : { kind: 'code', name: 'module' };
}

/** Every region a unified diff changes, in order of first appearance; at most MAX_REGIONS. */
export function regionsOf(diff: string): Region[] {
  const found = new Map<string, Region>();
  let header = '';
  let before: string[] = [];
  let after: string[] = [];
  for (const raw of diff.slice(0, MAX_DIFF_CHARS).split('\n')) {
    if (found.size >= MAX_REGIONS) break;
    const line = raw.replace(/\r$/, '');
    const hunk = HUNK.exec(line);
    if (hunk) {
      header = hunk[1] ?? '';
      before = [];
      after = [];
      continue;
    }
    if (line.startsWith('---') || line.startsWith('+++') || line.startsWith('diff ') || line.startsWith('index ')) continue;
    const mark = line[0];
    const text = line.slice(1);
    if (mark === ' ') {
      before.push(text);
      after.push(text);
    } else if (mark === '-' || mark === '+') {
      const side = mark === '-' ? before : after;
      // A blank line added or removed changes nothing worth a direction.
      if (text.trim() !== '' && !/^\s*#/.test(text)) {
        const r = enclosing(text, side, header);
        found.set(keyOf(r), r);
      }
      side.push(text);
    }
  }
  return [...found.values()];
}

/** Constants that set up the run rather than the model (seed, budget, logging): never offered as a direction. */
const SETUP = /(^|_)(SEED|BUDGET|TIME|EVAL|EVERY|PRINT|LOG|VERBOSE|DEBUG|COMPILE|DEVICE|PATH|DIR|VOCAB|VOCAB_SIZE)(_|$)/;

/** The regions a train.py offers: its upper-case top-level constants, then its top-level defs and classes. */
export function sourceRegions(source: string): Region[] {
  const found = new Map<string, Region>();
  for (const line of source.split('\n')) {
    const r = topLevel(line.replace(/\r$/, ''));
    if (!r || found.has(keyOf(r))) continue;
    if (r.kind === 'constant' && (!/^[A-Z][A-Z0-9_]*$/.test(r.name) || SETUP.test(r.name))) continue;
    found.set(keyOf(r), r);
  }
  return [...found.values()].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'constant' ? -1 : 1));
}

/** The known constant names a text mentions (a claim's hypothesis, "MATRIX_LR 0.02 -> 0.03"). */
export function constantsMentioned(text: string, known: ReadonlySet<string>): Region[] {
  const names = new Set(text.slice(0, 600).match(CONSTANT_WORD) ?? []);
  return [...names].filter((n) => known.has(n)).slice(0, MAX_REGIONS).map((name) => ({ kind: 'constant' as const, name }));
}
