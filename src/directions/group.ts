/** Groups attempts into directions (the regions their diffs touch) and sums up what is open, crowded and saturated. */
import { categoryOf } from './category.js';
import { constantsMentioned, regionKey, regionsOf, sourceRegions } from './regions.js';
import { CATEGORIES, type Attempt, type Category, type Direction, type Exploration, type Region } from './types.js';

/** A direction whose last this-many tries were all not kept (and that was tried at least this often) has saturated. */
export const SATURATION = 3;
/** Rows kept, most tried first: hostile peers can invent regions, the table stays bounded. */
export const MAX_DIRECTIONS = 200;
const MAX_RUNNING = 8;
/** Items per list told to a proposer. */
const MAX_LISTED = 20;

interface Acc {
  region: Region;
  tries: number; keeps: number; crashes: number; bestGain: number | null; sinceKeep: number;
  nodes: Set<string>; running: Set<string>; votes: Map<Category, number>;
}

/**
 * Every direction the attempts touched, plus the untried regions of `source` (the current best
 * train.py) as open ones; at most MAX_DIRECTIONS, most tried first, open ones last.
 */
export function groupDirections(attempts: readonly Attempt[], source = ''): Direction[] {
  const offered = sourceRegions(source);
  const known = new Set(offered.filter((r) => r.kind === 'constant').map((r) => r.name));
  // Memoised: the same diff and hypothesis recur (a kept change rebased by every peer), and peers can send many.
  const parsed = new Map<string, Region[]>();
  const regions = (diff: string) => parsed.get(diff) ?? parsed.set(diff, diff === '' ? [] : regionsOf(diff)).get(diff)!;
  const perAttempt = [...attempts].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).map((a) => ({ a, regions: regions(a.diff) }));
  for (const { regions: touched } of perAttempt) for (const r of touched) if (r.kind === 'constant') known.add(r.name);
  const categories = new Map<string, Category | null>();
  const category = (text: string) => (categories.has(text) ? categories.get(text)! : categories.set(text, categoryOf(text)).get(text)!);
  const accs = new Map<string, Acc>();
  for (const { a, regions: touched } of perAttempt) {
    // A claim carries no diff: the constants its hypothesis names stand for where it works.
    const where = touched.length > 0 ? touched : constantsMentioned(a.hypothesis, known);
    const told = category(a.hypothesis);
    for (const region of where) {
      const key = regionKey(region);
      // A constant's name says its theme best (a hypothesis may name several); code has only the hypothesis to go by.
      const vote = region.kind === 'constant' ? category(region.name) ?? told : told ?? categoryOf(region.name.replace('.', ' '));
      const acc = accs.get(key) ?? { region, tries: 0, keeps: 0, crashes: 0, bestGain: null, sinceKeep: 0, nodes: new Set(), running: new Set(), votes: new Map() };
      accs.set(key, acc);
      if (vote) acc.votes.set(vote, (acc.votes.get(vote) ?? 0) + 1);
      if (a.status === 'running') {
        if (acc.running.size < MAX_RUNNING) acc.running.add(a.who);
        continue;
      }
      acc.tries += 1;
      acc.nodes.add(a.who);
      if (a.status === 'crash') acc.crashes += 1;
      if (a.status === 'keep') {
        acc.keeps += 1;
        acc.sinceKeep = 0;
        if (a.gain !== null && (acc.bestGain === null || a.gain > acc.bestGain)) acc.bestGain = a.gain;
      } else {
        acc.sinceKeep += 1;
      }
    }
  }
  const rows = [...accs.entries()].map(([key, acc]) => direction(key, acc)).sort((a, b) => b.tries - a.tries || a.key.localeCompare(b.key)).slice(0, MAX_DIRECTIONS);
  const open = offered.filter((r) => !accs.has(regionKey(r))).map((region) => direction(regionKey(region), {
    region, tries: 0, keeps: 0, crashes: 0, bestGain: null, sinceKeep: 0, nodes: new Set(), running: new Set(), votes: new Map(),
  }));
  return [...rows, ...open.slice(0, Math.max(0, MAX_DIRECTIONS - rows.length))];
}

function direction(key: string, acc: Acc): Direction {
  const voted = [...acc.votes.entries()].sort((a, b) => b[1] - a[1] || CATEGORIES.indexOf(a[0]) - CATEGORIES.indexOf(b[0]))[0]?.[0];
  const category = voted ?? categoryOf(acc.region.name.replace('.', ' ')) ?? 'other';
  const running = [...acc.running];
  const state = running.length > 0 ? 'crowded' : acc.tries === 0 ? 'open' : saturated(acc) ? 'saturated' : 'active';
  return {
    key, kind: acc.region.kind, category, tries: acc.tries, keeps: acc.keeps, crashes: acc.crashes,
    bestGain: acc.bestGain, sinceKeep: acc.sinceKeep, nodes: acc.nodes.size, running, state,
  };
}

function saturated(d: Pick<Direction, 'tries' | 'sinceKeep'>): boolean {
  return d.tries >= SATURATION && d.sinceKeep >= SATURATION;
}

/** A node's plateau: its judged experiments since its last keep, against the configured length (0: off). */
export function plateauOf(sinceKeep: number, plateauAfter: number): Pick<Exploration, 'plateau' | 'sinceKeep' | 'plateauAfter'> {
  return { plateau: plateauAfter > 0 && sinceKeep >= plateauAfter, sinceKeep, plateauAfter };
}

/** What a proposer is told: the plateau, and the saturated, crowded and open directions by key. */
export function exploration(directions: readonly Direction[], sinceKeep: number, plateauAfter: number): Exploration {
  const keys = (test: (d: Direction) => boolean) => directions.filter(test).map((d) => d.key).slice(0, MAX_LISTED);
  const covered = new Set(directions.filter((d) => d.tries > 0 || d.running.length > 0).map((d) => d.category));
  return {
    ...plateauOf(sinceKeep, plateauAfter),
    // A direction being run now may have saturated too: the lists overlap where the states do not.
    saturated: keys(saturated), crowded: keys((d) => d.running.length > 0), open: keys((d) => d.state === 'open'),
    openCategories: CATEGORIES.filter((c) => c !== 'other' && !covered.has(c)),
  };
}
