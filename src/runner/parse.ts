/** Pure parsing of trainer output: progress lines, the summary block, failure markers, Python exceptions. */
import { METRIC_KEYS, type Metrics } from '../core/index.js';

export interface Progress {
  step: number;
  loss: number;
  elapsedSeconds: number;
  /** Share of the budget done (0..1), when the line says (`| done 42%`); shown to the user, never trusted. */
  fraction: number | null;
}

const PROGRESS_RE = /^step (\d+) \| loss (\S+) \|.* elapsed ([\d.]+)s(?: \| done ([\d.]+)%)?$/;
/** The reference's own progress line: `step 00042 (12.3%) | loss: 3.456789 | … | remaining: 250s`. */
const REFERENCE_PROGRESS_RE = /^step (\d+) \(([\d.]+)%\) \| loss: (\S+) \|.*\| remaining: ([\d.]+)s\s*$/;
const SUMMARY_LINE_RE = /^([A-Za-z_][\w.]*):\s+(\S+)\s*$/;

/** Python prints non-finite floats as nan / inf / -inf; Number() does not read those. */
export function parseNumber(text: string): number {
  const t = text.trim().toLowerCase().replace(/,/g, '');
  if (t === 'nan' || t === '+nan' || t === '-nan') return Number.NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Number.POSITIVE_INFINITY;
  if (t === '-inf' || t === '-infinity') return Number.NEGATIVE_INFINITY;
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}

/**
 * A progress line, ours or the reference's. The reference's says how many seconds remain, not how
 * many passed, so its elapsed time needs the run's time budget (`budgetSeconds`; 0 when unknown).
 */
export function parseProgress(line: string, budgetSeconds = Number.NaN): Progress | null {
  const ours = PROGRESS_RE.exec(line);
  if (ours) {
    const done = ours[4] === undefined ? Number.NaN : Number(ours[4]) / 100;
    return { step: Number(ours[1]), loss: parseNumber(ours[2]!), elapsedSeconds: Number(ours[3]), fraction: fractionOf(done) };
  }
  const ref = REFERENCE_PROGRESS_RE.exec(line.trim());
  if (!ref) return null;
  const elapsed = Number.isFinite(budgetSeconds) ? Math.max(0, budgetSeconds - Number(ref[4])) : 0;
  return { step: Number(ref[1]), loss: parseNumber(ref[3]!), elapsedSeconds: elapsed, fraction: fractionOf(Number(ref[2]) / 100) };
}

function fractionOf(done: number): number | null {
  return Number.isFinite(done) ? Math.min(1, Math.max(0, done)) : null;
}

/**
 * The `key: value` pairs of the summary block (unknown keys included; values as printed): the last
 * block after a `---` line that has every metric key, else the last block. A stray `---` printed
 * after a complete block does not hide it. Null when no `---` was printed.
 */
export function summaryFields(lines: readonly string[]): Map<string, string> | null {
  const blocks: Map<string, string>[] = [];
  for (const line of lines) {
    if (line.trim() === '---') {
      blocks.push(new Map());
      continue;
    }
    const m = blocks.length > 0 ? SUMMARY_LINE_RE.exec(line.trim()) : null;
    if (m) blocks.at(-1)!.set(m[1]!, m[2]!);
  }
  return blocks.findLast((b) => missingMetricKeys(b).length === 0) ?? blocks.at(-1) ?? null;
}

/** Keys of the contract missing (or not a number) in a summary block. `val_bpb` may be nan/inf. */
export function missingMetricKeys(fields: Map<string, string>): string[] {
  return METRIC_KEYS.filter((k) => {
    const v = fields.get(k);
    if (v === undefined) return true;
    const n = parseNumber(v);
    return Number.isNaN(n) && !/^[+-]?nan$/i.test(v.trim());
  });
}

function metricsFrom(fields: Map<string, string>): Metrics | null {
  if (missingMetricKeys(fields).length > 0) return null;
  const out = {} as Metrics;
  for (const k of METRIC_KEYS) out[k] = parseNumber(fields.get(k)!);
  return out;
}

/**
 * The metrics in a run log: the `key: value` lines after the last `---` line.
 * Null when there is no summary block or a contract key is missing / not a number.
 * Unknown keys are ignored. A non-finite val_bpb (nan, inf) is returned as such: the caller decides.
 */
export function parseSummary(log: string): Metrics | null {
  const fields = summaryFields(log.split(/\r?\n/));
  return fields ? metricsFrom(fields) : null;
}

export function metricsFromLines(lines: readonly string[]): Metrics | null {
  const fields = summaryFields(lines);
  return fields ? metricsFrom(fields) : null;
}

/**
 * `harness: N training tokens drawn`: printed by the harness's evaluate_bpb under a node, the tokens
 * its training loader handed out in the run. Like everything a run prints, it is the run's word.
 */
export function parseDrawnTokens(line: string): number | null {
  const m = /^harness: (\d{1,15}) training tokens drawn$/.exec(line.trim());
  return m ? Number(m[1]) : null;
}

/** What a bare `FAIL` stands for: the reference prints it, and nothing else, when its loss blows up. */
export const BARE_FAIL_REASON = 'FAIL (the run declared itself failed: the reference prints a bare FAIL when its loss diverges)';

/**
 * The trainer's own declared failure: `FAIL: <why>` (ours, e.g. `FAIL: loss diverged (nan) at step 12`),
 * or the reference's bare `FAIL`, which may end a `\r` progress line that had no newline.
 */
export function parseFailLine(line: string): string | null {
  const m = /^FAIL:\s*(.+?)\s*$/.exec(line);
  if (m) return m[1]!;
  return /(?:^|\s)FAIL\s*$/.test(line) ? BARE_FAIL_REASON : null;
}

const OOM_RE = /(CUDA out of memory|OutOfMemoryError|\bMemoryError\b|MPS backend out of memory|CUBLAS_STATUS_ALLOC_FAILED|HIP out of memory|out of memory)/i;
export function isOomLine(line: string): boolean {
  return OOM_RE.test(line);
}

/** An unindented `SomeError: message` / `pkg.SomeError` line, as the last line of a Python traceback. */
const EXCEPTION_RE = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Iteration|Warning|Failure))(?::\s.*|:)?\s*$/;

export function isExceptionLine(line: string): boolean {
  return EXCEPTION_RE.test(line);
}

/** The last Python exception line in the tail (null when none). */
export function lastExceptionLine(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (EXCEPTION_RE.test(line)) return line.trim();
  }
  // A traceback whose final line does not look like `XxxError: ...` (custom exception name).
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.startsWith('Traceback (most recent call last):')) {
      for (let j = lines.length - 1; j > i; j--) {
        const l = lines[j]!;
        if (l.trim() !== '' && !/^\s/.test(l)) return l.trim();
      }
      break;
    }
  }
  return null;
}

const TRIVIAL_RE = /^(?:[\w.]*\.)?(SyntaxError|IndentationError|TabError|NameError|ImportError|ModuleNotFoundError)\b/;
export function isTrivialExceptionLine(line: string): boolean {
  return TRIVIAL_RE.test(line);
}
