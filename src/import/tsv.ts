import { ImportError } from '../core/index.js';
import { UNSAFE_TEXT } from '../p2p/index.js';
import { TSV_HEADER } from '../store/index.js';

/** One row of a reference results.tsv, cells as written and values as read. */
export interface TsvRow {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  /** The commit cell: a short hash (lowercase hex) or `baseline` (first row only). */
  commit: string;
  valBpb: number;
  memoryGb: number;
  status: 'keep' | 'discard' | 'crash';
  description: string;
}

export const TSV_LIMITS = {
  /** A reference run writes ~100 rows a night; this is decades of them. */
  bytes: 16 * 1024 * 1024,
  rows: 100_000,
  /** Code points of one description. */
  descriptionChars: 2000,
} as const;

const COMMIT = /^[0-9a-f]{4,64}$/;
const DECIMAL = /^\d{1,9}(?:\.\d{1,12})?$/;
const STATUSES = new Set(['keep', 'discard', 'crash']);
// Tabs and newlines cannot be in a cell. Other control characters, bidi overrides and isolates, zero-width
// marks and line separators would reach terminals (swarm show, status), the proposing agent's prompt and
// the exported TSV, where they can make a row read as something else: the wire's rule, plus U+2028/9.
const hidden = (s: string): boolean => UNSAFE_TEXT.test(s) || /[\u2028\u2029]/u.test(s);
/** A cell or row quoted for an error message, every hidden character spelled as \uXXXX. */
const shown = (s: string): string => JSON.stringify(s).replace(/[^\u0020-\u007e]/gu, (c) => (hidden(c) ? `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}` : c));

/**
 * Parses the reference's results.tsv: its exact header, then one row per experiment, five
 * tab-separated cells, no quoting. Blank lines are skipped; `\r\n` endings are accepted.
 * Throws ImportError naming the line of the first row it cannot read.
 */
export function parseResultsTsv(bytes: Uint8Array): TsvRow[] {
  if (bytes.byteLength > TSV_LIMITS.bytes) {
    throw new ImportError(`results.tsv is ${bytes.byteLength} bytes, more than the ${TSV_LIMITS.bytes} an autoresearch log can be`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImportError('results.tsv is not UTF-8 text', { hint: 'pass the run\'s results.tsv with --tsv FILE' });
  }
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines[0] !== TSV_HEADER) {
    throw new ImportError(`the header is not the reference's ${shown(TSV_HEADER)}: ${shown((lines[0] ?? '').slice(0, 120))}`, {
      line: 1, hint: 'is this an autoresearch results.tsv (tab-separated, header first)?',
    });
  }
  const rows: TsvRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    if (rows.length >= TSV_LIMITS.rows) throw new ImportError(`more than ${TSV_LIMITS.rows} rows`, { line: i + 1 });
    rows.push(parseRow(lines[i]!, i + 1, rows.length === 0));
  }
  if (rows.length === 0) throw new ImportError('results.tsv has no rows', { line: 2, hint: 'nothing to import' });
  return rows;
}

function parseRow(text: string, line: number, first: boolean): TsvRow {
  const cells = text.split('\t');
  const bad = (what: string): ImportError => new ImportError(`${what}: ${shown(text.slice(0, 160))}`, {
    line, hint: 'each row is: commit<TAB>val_bpb<TAB>memory_gb<TAB>keep|discard|crash<TAB>description',
  });
  if (cells.length !== 5) throw bad(`expected 5 tab-separated cells, found ${cells.length}`);
  const [commit, bpb, mem, status, description] = cells as [string, string, string, string, string];
  if (commit === 'baseline' ? !first : !COMMIT.test(commit)) {
    throw bad(commit === 'baseline' ? '`baseline` may only be the first row\'s commit' : `commit ${shown(commit.slice(0, 80))} is not a short hash (lowercase hex)`);
  }
  if (!DECIMAL.test(bpb)) throw bad(`val_bpb ${shown(bpb.slice(0, 40))} is not a decimal number`);
  if (!DECIMAL.test(mem)) throw bad(`memory_gb ${shown(mem.slice(0, 40))} is not a decimal number`);
  if (!STATUSES.has(status)) throw bad(`status ${shown(status.slice(0, 40))} is not keep, discard or crash`);
  if (hidden(description)) throw bad('the description holds control or bidi characters');
  if ([...description].length > TSV_LIMITS.descriptionChars) throw bad(`the description is longer than ${TSV_LIMITS.descriptionChars} characters`);
  return { line, commit, valBpb: Number(bpb), memoryGb: Number(mem), status: status as TsvRow['status'], description };
}
