/**
 * Static screen of a candidate train.py before this box runs it.
 *
 * A peer's patch is code that will run on this box. The screen is a SPEED BUMP, not the security
 * boundary: it refuses the obvious (a new `import socket`, `os.system`, `eval`, writing files, a patch
 * that touches anything but train.py, an oversized patch) cheaply and with a readable reason, so most
 * hostile or careless patches never start. Python is far too dynamic for a static check to be complete;
 * the boundary is the sandbox (src/sandbox: no network, read-only file system) that every trainer
 * process runs in, screened or not.
 *
 * First, text that Python reads differently from a person or this screen (a source encoding other
 * than UTF-8, a carriage return inside a line, bidi and invisible characters) is refused (./text.ts).
 *
 * How: pure TypeScript, no Python process (see ./tokenize.ts). The candidate (`after`) and the current
 * train.py (`before`) are tokenized with comments and string literals set apart, so `socket` in a
 * comment or a string never triggers. Then
 *   - imports: every import in `after` that `before` does not have must be on the allowlist;
 *   - names: each dangerous name/call/chain is counted in both; a count that grows is refused, and the
 *     reason points at the added lines of the diff where it occurs (pre-existing uses are not flagged).
 */
import { readDiff } from './diff.js';
import { DEFAULT_ALLOWED_IMPORTS, findImports, findNames, moduleVerdict, type Finding } from './rules.js';
import { textProblems } from './text.js';
import { tokenize } from './tokenize.js';

export { DEFAULT_ALLOWED_IMPORTS, CONDITIONAL_IMPORTS } from './rules.js';
export { tokenize, type Token } from './tokenize.js';

export interface ScreenResult {
  ok: boolean;
  /** Each says what and where, e.g. `line 12: imports "socket" (network access is not allowed)`. */
  reasons: string[];
}

export interface ScreenInput {
  /** Paths the patch touches (relative to the workspace root). Only `train.py` may appear. */
  files: string[];
  /** The patch as a unified diff (git diff). */
  diff: string;
  /** The current train.py the patch applies to. */
  before: string;
  /** train.py with the patch applied: what would run. */
  after: string;
  /** Default 64 KiB. */
  maxDiffBytes?: number;
  /** Default 256 KiB. */
  maxSourceBytes?: number;
  /** Extra modules (and their submodules) a patch may import, on top of DEFAULT_ALLOWED_IMPORTS. */
  allowImports?: string[];
}

export const DEFAULT_MAX_DIFF_BYTES = 64 * 1024;
export const DEFAULT_MAX_SOURCE_BYTES = 256 * 1024;
export const TRAIN_FILE = 'train.py';
const MAX_REASONS = 40;

export function screenPatch(input: ScreenInput): ScreenResult {
  const maxDiff = input.maxDiffBytes ?? DEFAULT_MAX_DIFF_BYTES;
  const maxSource = input.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES;
  const reasons: Array<{ line: number; text: string }> = [];
  const general = (text: string) => reasons.push({ line: 0, text });

  // 1. sizes: checked first, and nothing else is scanned when they fail
  const diffBytes = Buffer.byteLength(input.diff, 'utf8');
  const sourceBytes = Buffer.byteLength(input.after, 'utf8');
  if (diffBytes > maxDiff) general(`the diff is ${diffBytes} bytes, over the limit of ${maxDiff} bytes`);
  if (sourceBytes > maxSource) general(`train.py would be ${sourceBytes} bytes, over the limit of ${maxSource} bytes`);
  if (reasons.length > 0) return finish(reasons);

  // 2. only train.py, and only its text
  const summary = readDiff(input.diff);
  const touched = new Set([...input.files.map(normalisePath), ...summary.paths.map(normalisePath)]);
  for (const f of touched) if (f !== TRAIN_FILE) general(`the patch touches "${f}" (only ${TRAIN_FILE} may change)`);
  for (const op of new Set(summary.operations)) general(`the patch ${op} (only edits to the text of ${TRAIN_FILE} are allowed)`);
  for (const p of summary.problems) general(`the diff is malformed: ${p}`);
  if (input.after.trim() === '') general(`${TRAIN_FILE} would be empty`);
  if (input.after.includes('\0')) general(`${TRAIN_FILE} would contain a NUL byte`);
  for (const text of textProblems(input.after)) reasons.push({ line: Number(/^line (\d+)/.exec(text)?.[1] ?? 0), text });

  // 3. code scan of after vs before
  const beforeTokens = tokenize(input.before);
  const afterTokens = tokenize(input.after);
  const beforeImports = findImports(beforeTokens);
  const afterImports = findImports(afterTokens);
  const added = addedLines(input, summary.added.get(TRAIN_FILE));

  const beforeKeys = new Set(beforeImports.items.map((it) => it.key));
  const beforeRoots = new Set(beforeImports.items.map((it) => (it.from ?? it.module).split('.')[0]!));
  const allowed = [...DEFAULT_ALLOWED_IMPORTS, ...(input.allowImports ?? [])];
  const seenImport = new Set<string>();
  for (const it of afterImports.items) {
    if (beforeKeys.has(it.key)) continue;
    if (it.from !== null && it.from.startsWith('.')) {
      reasons.push({ line: it.line, text: `line ${it.line}: imports from "${it.from}" (relative imports are not allowed)` });
      continue;
    }
    const why = moduleVerdict(it.module, allowed, beforeRoots);
    const text = `line ${it.line}: imports "${it.module}" (${why})`;
    if (why !== null && !seenImport.has(text)) {
      seenImport.add(text);
      reasons.push({ line: it.line, text });
    }
  }

  const count = (fs: Finding[]) => {
    const m = new Map<string, Finding[]>();
    for (const f of fs) {
      const list = m.get(f.key);
      if (list) list.push(f);
      else m.set(f.key, [f]);
    }
    return m;
  };
  const beforeFindings = count(findNames(beforeTokens, beforeImports.covered));
  const afterFindings = count(findNames(afterTokens, afterImports.covered));
  for (const [key, list] of afterFindings) {
    const had = beforeFindings.get(key)?.length ?? 0;
    if (list.length <= had) continue;
    const onAdded = list.filter((f) => added.has(f.line));
    // If the growth cannot be placed on an added line (an odd diff), name the occurrences past the old count.
    const blame = onAdded.length > 0 ? onAdded : list.slice(had);
    const seen = new Set<string>();
    for (const f of blame) {
      const text = `line ${f.line}: ${f.message}`;
      if (seen.has(text)) continue;
      seen.add(text);
      reasons.push({ line: f.line, text });
    }
  }
  return finish(reasons);
}

function finish(reasons: Array<{ line: number; text: string }>): ScreenResult {
  const sorted = [...new Map(reasons.map((r) => [r.text, r])).values()].sort((a, b) => a.line - b.line);
  const texts = sorted.slice(0, MAX_REASONS).map((r) => r.text);
  if (sorted.length > MAX_REASONS) texts.push(`... and ${sorted.length - MAX_REASONS} more`);
  return { ok: sorted.length === 0, reasons: texts };
}

function normalisePath(p: string): string {
  let s = p.trim().replace(/\\/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

/**
 * Line numbers (in `after`) of the lines the patch adds: from the diff's hunks, and, in case the diff
 * does not say (or says something else), every line of `after` whose text is not among `before`'s lines.
 */
function addedLines(input: ScreenInput, fromDiff: Set<number> | undefined): Set<number> {
  const out = new Set(fromDiff ?? []);
  const have = new Map<string, number>();
  for (const l of input.before.split('\n')) have.set(l, (have.get(l) ?? 0) + 1);
  input.after.split('\n').forEach((l, i) => {
    const n = have.get(l) ?? 0;
    if (n > 0) have.set(l, n - 1);
    else out.add(i + 1);
  });
  return out;
}
