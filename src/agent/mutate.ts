/**
 * The built-in offline proposer: perturbs one (sometimes two) numeric constants at the top of train.py.
 *
 * Strategy, from the history's diffs:
 * - a constant whose last judged move was kept is picked more often, and moved on in the same direction (80 %);
 * - a direction that was discarded (or crashed) from the constant's current value is avoided (90 %), and if it is
 *   taken anyway the step is halved; constants with a run of discards since their last keep are picked less often;
 * - steps shrink as experiments accumulate: floats move by up to ×2 at first and ×1.23 after ~70 experiments;
 * - spread (`ctx.exploration`, src/directions): a constant some node is running a change in right now is picked much less often;
 * - on a plateau (`ctx.exploration.plateau`: many experiments without a keep) steps widen again (twice the current scale,
 *   at most the starting one), half the proposals combine two or three constants, and constants nobody in the swarm
 *   has tried are picked more often, saturated ones less often: single small moves around the best stopped paying.
 * Deterministic for a given seed, train.py and history length. Never returns a train.py this node tried (`ctx.triedHere`,
 * else `ctx.tried`; a peer's duplicate is then skipped by the loop's swarm check, where the user sees it), nor one it
 * returned before: after `draws` random draws it walks a fixed list of neighbours, then gives up with 'exhausted'.
 */
import { randomInt } from 'node:crypto';
import { ProposalError, sourceHash, type HistoryEntry } from '../core/index.js';
import { formatFloat, formatRatio, mutableConstants, setConstants, zeroStart, type Constant } from './constants.js';
import { direction, lessons, near } from './moves.js';
import { createRng, type Rng } from './rng.js';
import type { Exploration, Proposal, ProposalContext, Proposer } from './types.js';

export interface MutateOptions {
  /** Default: a random seed per proposer, so boxes of one swarm explore differently. */
  seed?: number;
  /** Random draws before falling back to the systematic neighbour list; default 64. */
  draws?: number;
}

type Dir = 1 | -1;
type Change = { c: Constant; raw: string };

export function mutateProposer(opts: MutateOptions = {}): Proposer {
  const seed = opts.seed ?? randomInt(2 ** 31);
  const draws = opts.draws ?? 64;
  /** What this instance returned already: the loop drafts the next proposal before the last one is recorded as tried. */
  const proposed = new Set<string>();

  return {
    name: 'mutate',
    async propose(ctx: ProposalContext): Promise<Proposal> {
      const constants = mutableConstants(ctx.source);
      if (constants.length === 0) {
        throw new ProposalError('exhausted', 'train.py has no numeric constants the mutator can change (top-level lines like "DEPTH = 4"); use an LLM proposer');
      }
      const planner = new Planner(constants, ctx.history, ctx.exploration);
      const rng = createRng('mutate', String(seed), sourceHash(ctx.source), String(ctx.history.length));
      const fresh = (changes: Change[]): Proposal | null => {
        if (changes.length === 0) return null;
        const source = setConstants(ctx.source, new Map(changes.map((ch) => [ch.c.name, ch.raw])));
        const hash = sourceHash(source);
        if (source === ctx.source || (ctx.triedHere ?? ctx.tried).has(hash) || proposed.has(hash)) return null;
        proposed.add(hash);
        const hypothesis = [...changes].sort((a, b) => a.c.line - b.c.line).map((ch) => `${ch.c.name} ${ch.c.raw} -> ${ch.raw}`).join(', ');
        return { hypothesis, source, proposer: 'mutate' };
      };
      for (let i = 0; i < draws; i++) {
        const p = fresh(planner.draw(rng));
        if (p) return p;
      }
      for (const changes of planner.neighbours()) {
        const p = fresh(changes);
        if (p) return p;
      }
      const names = constants.map((c) => c.name).join(', ');
      throw new ProposalError('exhausted', `mutate: every nearby value of ${names} was already tried; edit train.py by hand or use an LLM proposer`);
    },
  };
}

interface Plan {
  c: Constant;
  weight: number;
  /** Direction of the constant's last kept move, if any. */
  kept: Dir | null;
  /** Directions already discarded or crashed from the current value. */
  blocked: Set<Dir>;
}

/** Weight factors from the swarm's directions: untried constants draw the node, ones being run elsewhere push it away. */
const OPEN_WEIGHT = 2.5;
const CROWDED_WEIGHT = 0.25;
const SATURATED_WEIGHT = 0.5;
/** On a plateau: steps this much wider (at most as wide as at the start), and how often 2 or 3 constants move at once. */
const PLATEAU_WIDEN = 2;
const PLATEAU_PAIR = 0.4;
const PLATEAU_TRIPLE = 0.15;

class Planner {
  private readonly plans: Plan[];
  /** Step scale: 1 at the start, down to 0.3 as experiments accumulate; PLATEAU_WIDEN times that (at most 1) on a plateau. */
  private readonly temperature: number;
  private readonly plateau: boolean;

  constructor(constants: readonly Constant[], history: readonly HistoryEntry[], explored?: Exploration) {
    const all = lessons(history);
    const judged = history.filter((h) => h.status === 'keep' || h.status === 'discard' || h.status === 'crash').length;
    this.plateau = explored?.plateau === true;
    const cooled = Math.min(1, Math.max(0.3, 1 - judged / 100));
    this.temperature = this.plateau ? Math.min(1, cooled * PLATEAU_WIDEN) : cooled;
    // Always leave to a peer what it runs now; only on a plateau turn from saturated constants to untried ones
    // (before it, the history's own weights know better where the gains are than "nobody tried it").
    const spread = (name: string) =>
      explored?.crowded.includes(name) ? CROWDED_WEIGHT
        : !this.plateau ? 1
        : explored?.open.includes(name) ? OPEN_WEIGHT
        : explored?.saturated.includes(name) ? SATURATED_WEIGHT
        : 1;
    this.plans = constants.map((c) => {
      const mine = all.filter((l) => l.name === c.name);
      const lastKeep = mine.filter((l) => l.outcome === 'keep').at(-1);
      const kept = lastKeep ? direction(lastKeep) : null;
      const blocked = new Set<Dir>();
      for (const l of mine) {
        if (l.outcome === 'keep') continue;
        const dir = direction(l);
        // Discarded from exactly here; or, for a crash going up (out of memory), from here or below.
        if (near(l.from, c.value) || (l.outcome === 'crash' && dir === 1 && l.from <= c.value)) blocked.add(dir);
      }
      const failsSinceKeep = mine.filter((l) => l.outcome !== 'keep' && l.seq > (lastKeep?.seq ?? -Infinity)).length;
      let weight = 1 + (kept !== null && !blocked.has(kept) ? 2 : 0);
      weight *= 0.75 ** Math.min(failsSinceKeep, 4);
      if (blocked.size === 2) weight *= 0.5;
      weight *= spread(c.name);
      return { c, weight, kept, blocked };
    });
  }

  /** One random proposal: one constant, or two with probability 0.2; on a plateau two or three, more often than not. */
  draw(rng: Rng): Change[] {
    const count = this.plateau ? Math.min(this.plans.length, this.combination(rng.next())) : this.plans.length >= 2 && rng.chance(0.2) ? 2 : 1;
    const pool = [...this.plans];
    const changes: Change[] = [];
    while (changes.length < count && pool.length > 0) {
      const [plan] = pool.splice(rng.weighted(pool.map((p) => p.weight)), 1);
      const dir = this.chooseDirection(plan!, rng);
      const scale = plan!.blocked.has(dir) ? 0.5 : 1;
      const magnitude = rng.uniform(0.35, 1) * scale * this.temperature;
      const raw = step(plan!.c, dir, magnitude, rng) ?? step(plan!.c, -dir as Dir, magnitude, rng);
      if (raw !== null) changes.push({ c: plan!.c, raw });
    }
    return changes;
  }

  /** How many constants a plateau proposal moves, from a uniform draw. */
  private combination(x: number): number {
    return x < PLATEAU_TRIPLE ? 3 : x < PLATEAU_TRIPLE + PLATEAU_PAIR ? 2 : 1;
  }

  /** Every single-constant move on a fixed grid, most promising first: the fallback when random draws keep hitting tried versions. */
  *neighbours(): Generator<Change[]> {
    const order = [...this.plans].sort((a, b) => b.weight - a.weight);
    for (const magnitude of [1, 0.6, 0.35, 0.15, 0.07, 1.6, 2.2]) {
      for (const plan of order) {
        const first: Dir = plan.kept !== null && !plan.blocked.has(plan.kept) ? plan.kept : plan.blocked.has(1) ? -1 : 1;
        for (const dir of [first, -first as Dir]) {
          const raw = step(plan.c, dir, magnitude, null);
          if (raw !== null) yield [{ c: plan.c, raw }];
        }
      }
    }
  }

  private chooseDirection(plan: Plan, rng: Rng): Dir {
    if (plan.kept !== null && !plan.blocked.has(plan.kept)) return rng.chance(0.8) ? plan.kept : (-plan.kept as Dir);
    if (plan.blocked.size === 1) {
      const open: Dir = plan.blocked.has(1) ? -1 : 1;
      return rng.chance(0.9) ? open : (-open as Dir);
    }
    return rng.chance(0.5) ? 1 : -1;
  }
}

/**
 * The constant's new value text after a move in `dir` of the given magnitude (≈ 1 at the start of a run),
 * or null when it cannot move that way. `rng` null means the deterministic grid (no extra randomness).
 */
function step(c: Constant, dir: Dir, magnitude: number, rng: Rng | null): string | null {
  const v = c.value;
  let raw: string;
  switch (c.kind) {
    case 'float': {
      if (v === 0) {
        const start = zeroStart(c.name);
        if (start === null || dir < 0) return null;
        // A clean first value: the named default, or a half / quarter / four times it.
        raw = formatFloat(start * (magnitude > 1.2 ? 4 : magnitude >= 0.6 ? 1 : magnitude >= 0.3 ? 0.5 : 0.25));
      } else {
        raw = formatFloat(v * Math.exp(dir * magnitude * Math.LN2));
      }
      break;
    }
    case 'ratio': {
      const logit = Math.log(v / (1 - v)) + dir * magnitude * 1.2;
      raw = formatRatio(Math.min(0.999, Math.max(0.001, 1 / (1 + Math.exp(-logit)))));
      break;
    }
    case 'pow2': {
      const x = dir > 0 ? v * 2 : Math.floor(v / 2);
      if (magnitude > 1.5 && dir > 0) return String(v * 4);
      raw = String(x);
      break;
    }
    case 'count': {
      const d = magnitude > 1.5 || (rng !== null && magnitude > 0.8 && rng.chance(0.25)) ? 2 : 1;
      raw = String(v + dir * d);
      break;
    }
    case 'int': {
      let x = v < 8 ? v + dir * Math.max(1, Math.round(magnitude * 1.5)) : round2(v * Math.exp(dir * magnitude * Math.LN2));
      if (x === v) x = v + dir;
      raw = String(x);
      break;
    }
  }
  const x = Number(raw);
  if (near(x, v) || (c.isInt && x < 1)) return null;
  return raw;
}

/** Rounds to two significant digits (10000 × 1.37 → 14000). */
function round2(x: number): number {
  if (x < 1) return Math.round(x);
  const p = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Math.round(x / p) * p;
}
