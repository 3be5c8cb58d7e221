/** The numeric hyperparameter constants at the top of train.py (`DEPTH = 4  # layers`): finding, classifying, rewriting. */

/** How a constant may move. */
export type ConstantKind =
  | 'pow2'   // integer sizes (batch, widths, heads): ×2 or ÷2
  | 'count'  // layer counts: ±1 (early, sometimes ±2)
  | 'int'    // other integers: ±1 when small, else multiplicative and rounded
  | 'ratio'  // floats that must stay in (0, 1): moved in logit space
  | 'float'; // other floats: multiplicative, log-uniform

export interface Constant {
  name: string;
  /** 0-based line index in train.py. */
  line: number;
  /** The value as written. */
  raw: string;
  value: number;
  isInt: boolean;
  kind: ConstantKind;
}

const NUMBER = String.raw`[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?`;
const LINE_RE = new RegExp(String.raw`^([A-Z][A-Z0-9_]*)(\s*=\s*)(${NUMBER})(\s*#.*)?$`);
/** Constants the mutator leaves alone: they set up the run rather than the model. */
const FROZEN_RE = /(^|_)(SEED|BUDGET|VOCAB|VOCAB_SIZE|EVAL|EVERY|PRINT|LOG|LOGGING|VERBOSE|DEBUG|SECONDS|COMPILE)(_|$)|TIME/;
const COUNT_RE = /(^|_)(DEPTH|N_?LAYERS?|NUM_LAYERS|LAYERS|N_BLOCKS?)(_|$)/;
const POW2_RE = /BATCH|DIM|WIDTH|HEADS?(_|$)|EMBD|EMBED|SEQ_LEN|CONTEXT|HIDDEN|CHANNELS|N_HEAD|N_KV/;
const RATIO_RE = /RATIO|FRAC|DROPOUT|BETA|MOMENTUM|PROB|EMA|SMOOTHING/;

/** Every top-level `NAME = number` line (first occurrence of each name). */
export function findConstants(source: string): Constant[] {
  const out: Constant[] = [];
  const seen = new Set<string>();
  source.split('\n').forEach((text, line) => {
    const m = LINE_RE.exec(text.replace(/\r$/, ''));
    if (!m) return;
    const name = m[1]!;
    const raw = m[3]!;
    if (seen.has(name)) return;
    seen.add(name);
    const value = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(value)) return;
    const isInt = !/[.eE]/.test(raw);
    out.push({ name, line, raw, value, isInt, kind: classify(name, value, isInt) });
  });
  return out;
}

/** The constants the mutator may change: not frozen, and with a value it can move sensibly. */
export function mutableConstants(source: string): Constant[] {
  return findConstants(source).filter((c) => {
    if (FROZEN_RE.test(c.name)) return false;
    if (c.isInt) return c.value >= 1;
    return c.value !== 0 || zeroStart(c.name) !== null;
  });
}

function classify(name: string, value: number, isInt: boolean): ConstantKind {
  if (isInt) {
    if (COUNT_RE.test(name)) return 'count';
    if (POW2_RE.test(name)) return 'pow2';
    return 'int';
  }
  if (value > 0 && value < 1 && RATIO_RE.test(name)) return 'ratio';
  return 'float';
}

/** A first non-zero value for a float that starts at 0 (weight decay, dropout), or null if it has none. */
export function zeroStart(name: string): number | null {
  if (/DROPOUT/.test(name)) return 0.05;
  if (/DECAY|(^|_)WD(_|$)/.test(name)) return 0.01;
  if (/RATIO|FRAC/.test(name)) return 0.05;
  return null;
}

/** train.py with the given constants' values replaced; spacing and comments are kept. */
export function setConstants(source: string, values: ReadonlyMap<string, string>): string {
  const lines = source.split('\n');
  for (const c of findConstants(source)) {
    const raw = values.get(c.name);
    if (raw === undefined) continue;
    const text = lines[c.line]!;
    const cr = text.endsWith('\r') ? '\r' : '';
    const m = LINE_RE.exec(text.replace(/\r$/, ''))!;
    lines[c.line] = `${m[1]}${m[2]}${raw}${m[4] ?? ''}${cr}`;
  }
  return lines.join('\n');
}

/** Python text for a float: 3 significant digits, always readable as a float. */
export function formatFloat(x: number, digits = 3): string {
  const s = String(Number(x.toPrecision(digits)));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Python text for a value in (0, 1): enough digits that both it and 1 − it keep two significant digits. */
export function formatRatio(x: number): string {
  const small = Math.min(x, 1 - x);
  const decimals = Math.min(6, Math.max(2, Math.ceil(-Math.log10(small)) + 1));
  const s = x.toFixed(decimals).replace(/0+$/, '');
  return s.endsWith('.') ? `${s}0` : s;
}
