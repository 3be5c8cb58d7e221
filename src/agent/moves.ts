/** What the history says about constant changes: which moves were kept, which were discarded or crashed. */
import type { HistoryEntry } from '../core/index.js';
import { findConstants } from './constants.js';

export interface Move {
  name: string;
  from: number;
  to: number;
}

export interface Lesson extends Move {
  seq: number;
  outcome: 'keep' | 'discard' | 'crash';
}

/** Constant changes an experiment made, read from its diff (or, failing that, a "NAME a -> b" hypothesis). */
export function movesOf(entry: Pick<HistoryEntry, 'diff' | 'hypothesis'>): Move[] {
  const before = new Map<string, number>();
  const after = new Map<string, number>();
  for (const line of entry.diff.split('\n')) {
    if (line.startsWith('---') || line.startsWith('+++')) continue;
    const side = line[0] === '-' ? before : line[0] === '+' ? after : null;
    if (!side) continue;
    const c = findConstants(line.slice(1))[0];
    if (c && !side.has(c.name)) side.set(c.name, c.value);
  }
  const moves: Move[] = [];
  for (const [name, from] of before) {
    const to = after.get(name);
    if (to !== undefined && to !== from) moves.push({ name, from, to });
  }
  if (moves.length > 0 || entry.diff.trim() !== '') return moves;
  for (const m of entry.hypothesis.matchAll(/\b([A-Z][A-Z0-9_]*)\s+(-?[\d.]+(?:e[-+]?\d+)?)\s*->\s*(-?[\d.]+(?:e[-+]?\d+)?)/gi)) {
    const from = Number(m[2]);
    const to = Number(m[3]);
    if (Number.isFinite(from) && Number.isFinite(to) && from !== to) moves.push({ name: m[1]!, from, to });
  }
  return moves;
}

/** Every judged constant move in the history, oldest first. */
export function lessons(history: readonly HistoryEntry[]): Lesson[] {
  const out: Lesson[] = [];
  for (const h of history) {
    if (h.status !== 'keep' && h.status !== 'discard' && h.status !== 'crash') continue;
    for (const m of movesOf(h)) out.push({ ...m, seq: h.seq, outcome: h.status });
  }
  return out;
}

export function direction(m: Move): 1 | -1 {
  return m.to > m.from ? 1 : -1;
}

/** Same value, allowing for formatting round-off. */
export function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}
