// The surrogate research program's true (noise-free) val_bpb of a train.py source, for counting false keeps:
// the same landscape (test/fixtures/surrogate/landscape.json) and the same parsing as its prepare.py.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The surrogate trainer folder: pass it as a node's trainer directory. */
export const SURROGATE_DIR = resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'surrogate');

/** The landscape: base, sigma, defaults, terms, limits (see its "about"). */
export const landscape = JSON.parse(readFileSync(join(SURROGATE_DIR, 'landscape.json'), 'utf8'));

const NUMBER = String.raw`[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?`;
const LINE_RE = new RegExp(String.raw`^([A-Z][A-Z0-9_]*)(\s*=\s*)(${NUMBER})(\s*#.*)?$`);
const TRANSFORMS = { linear: (v) => v, log: Math.log, logit: (v) => Math.log(v / (1 - v)) };

/** The landscape's constants as the source sets them (first `NAME = number` line of each), else their defaults. */
export function constantsOf(source) {
  const values = { ...landscape.defaults };
  const seen = new Set();
  for (const line of source.split('\n')) {
    const m = LINE_RE.exec(line.replace(/\r$/, ''));
    if (!m || seen.has(m[1])) continue;
    seen.add(m[1]);
    if (m[1] in values) values[m[1]] = Number(m[3].replace(/_/g, ''));
  }
  return values;
}

/** The noise-free val_bpb of a train.py source; null where the surrogate crashes (a limit, or outside a transform's domain). */
export function trueValue(source) {
  const values = constantsOf(source);
  for (const limit of landscape.limits) {
    if (limit.factors.reduce((p, f) => p * values[f.name], 1) > limit.max) return null;
  }
  let total = landscape.base;
  for (const term of landscape.terms) {
    const f = TRANSFORMS[term.transform];
    const x = term.factors.reduce((s, fa) => s + (fa.power ?? 1) * f(values[fa.name] + (fa.offset ?? 0)), 0);
    const opt = term.factors.reduce((s, fa) => s + (fa.power ?? 1) * f(fa.opt + (fa.offset ?? 0)), 0);
    total += term.weight * (x - opt) ** 2;
  }
  return Number.isFinite(total) ? total : null;
}

/** The true improvement of `child` over `parent` (positive = better); null when either crashes. */
export function trueEffect(parent, child) {
  const a = trueValue(parent);
  const b = trueValue(child);
  return a === null || b === null ? null : a - b;
}
