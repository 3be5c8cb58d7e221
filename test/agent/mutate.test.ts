import { describe, expect, it } from 'vitest';
import { ProposalError, sourceHash, type HistoryEntry } from '../../src/core/index.js';
import { mutateProposer, type ProposalContext } from '../../src/agent/index.js';
import { findConstants, formatFloat, formatRatio, mutableConstants, setConstants } from '../../src/agent/constants.js';
import { movesOf } from '../../src/agent/moves.js';
import { TRAIN_PY, constantDiff, entry } from './fixtures.js';

const ctx = (over: Partial<ProposalContext> = {}): ProposalContext => ({
  program: '', source: TRAIN_PY, history: [], tried: new Set([sourceHash(TRAIN_PY)]), ...over,
});

const values = (source: string): Map<string, string> => new Map(findConstants(source).map((c) => [c.name, c.raw]));

/** The constants whose text differs between two train.py versions, as name → [before, after]. */
function changed(a: string, b: string): Map<string, [string, string]> {
  const before = values(a);
  const out = new Map<string, [string, string]>();
  for (const [name, raw] of values(b)) if (before.get(name) !== raw) out.set(name, [before.get(name)!, raw]);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<ProposalError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProposalError);
  return err as ProposalError;
}

describe('constants', () => {
  it('finds the top-level numeric constants and classifies them', () => {
    const kinds = Object.fromEntries(findConstants(TRAIN_PY).map((c) => [c.name, c.kind]));
    expect(kinds).toEqual({
      DEPTH: 'count', MODEL_DIM: 'pow2', N_HEAD: 'pow2', DEVICE_BATCH_SIZE: 'pow2', MATRIX_LR: 'float', EMBEDDING_LR: 'float',
      WEIGHT_DECAY: 'float', WARMDOWN_RATIO: 'ratio', ADAM_BETA2: 'ratio', ROPE_BASE: 'int', SEED: 'int', TIME_BUDGET: 'int',
    });
    expect(mutableConstants(TRAIN_PY).map((c) => c.name)).not.toContain('SEED');
    expect(mutableConstants(TRAIN_PY).map((c) => c.name)).not.toContain('TIME_BUDGET');
  });

  it('rewrites values keeping spacing, comments and CRLF', () => {
    const crlf = 'DEPTH = 4  # layers\r\nLR=1e-3\r\n';
    expect(setConstants(crlf, new Map([['DEPTH', '5'], ['LR', '0.002']]))).toBe('DEPTH = 5  # layers\r\nLR=0.002\r\n');
  });

  it('formats floats compactly and always as Python floats', () => {
    expect(formatFloat(0.030000001)).toBe('0.03');
    expect(formatFloat(2)).toBe('2.0');
    expect(formatFloat(1.234e-7)).toBe('1.23e-7');
    expect(formatRatio(0.98765)).toBe('0.988');
    expect(formatRatio(0.5)).toBe('0.5');
  });

  it('reads constant moves from a diff, or from a "NAME a -> b" hypothesis', () => {
    expect(movesOf({ diff: constantDiff('MATRIX_LR', '0.02', '0.03'), hypothesis: '' })).toEqual([{ name: 'MATRIX_LR', from: 0.02, to: 0.03 }]);
    expect(movesOf({ diff: '', hypothesis: 'DEPTH 4 -> 5, MATRIX_LR 0.02 -> 0.01' })).toEqual([
      { name: 'DEPTH', from: 4, to: 5 }, { name: 'MATRIX_LR', from: 0.02, to: 0.01 },
    ]);
  });
});

describe('mutateProposer', () => {
  it('changes exactly the constants it names, and nothing else', async () => {
    for (let seed = 0; seed < 200; seed++) {
      const p = await mutateProposer({ seed }).propose(ctx());
      expect(p.proposer).toBe('mutate');
      const diff = changed(TRAIN_PY, p.source);
      expect(diff.size === 1 || diff.size === 2).toBe(true);
      expect(p.hypothesis).toBe([...diff].map(([name, [a, b]]) => `${name} ${a} -> ${b}`).join(', '));
      // Only those lines differ.
      const a = TRAIN_PY.split('\n');
      const b = p.source.split('\n');
      expect(b).toHaveLength(a.length);
      const lines = a.flatMap((l, i) => (l === b[i] ? [] : [l.split(' ')[0]]));
      expect(lines.sort()).toEqual([...diff.keys()].sort());
      for (const [name, [before, after]] of diff) {
        expect(['SEED', 'TIME_BUDGET']).not.toContain(name);
        const v = Number(after);
        expect(Number.isFinite(v)).toBe(true);
        if (!/[.e]/.test(before)) {
          expect(after).toMatch(/^\d+$/);
          expect(v).toBeGreaterThanOrEqual(1);
        } else {
          expect(after).toMatch(/[.e]/);
        }
        if (name === 'WARMDOWN_RATIO' || name === 'ADAM_BETA2') expect(v > 0 && v < 1).toBe(true);
        if (name === 'DEVICE_BATCH_SIZE' || name === 'MODEL_DIM') expect([Number(before) / 2, Number(before) * 2, Number(before) * 4]).toContain(v);
        if (name === 'DEPTH') expect(Math.abs(v - 4)).toBeLessThanOrEqual(2);
      }
    }
  });

  it('is deterministic for a seed and its inputs, and varies across seeds', async () => {
    const history = [entry(1, 'keep', 'baseline', '', 1.0)];
    const a = await Promise.all([1, 2, 3, 4, 5].map((seed) => mutateProposer({ seed }).propose(ctx({ history }))));
    const b = await Promise.all([1, 2, 3, 4, 5].map((seed) => mutateProposer({ seed }).propose(ctx({ history }))));
    expect(b).toEqual(a);
    expect(new Set(a.map((p) => p.hypothesis)).size).toBeGreaterThan(2);
  });

  it('never proposes the same train.py twice from one instance', async () => {
    const p = mutateProposer({ seed: 7 });
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(sourceHash((await p.propose(ctx())).source));
    expect(seen.size).toBe(50);
  });

  it('never returns a tried train.py, even when most neighbours are tried', async () => {
    // Every proposal 400 seeds come up with counts as tried.
    const tried = new Set([sourceHash(TRAIN_PY)]);
    for (let seed = 0; seed < 400; seed++) tried.add(sourceHash((await mutateProposer({ seed }).propose(ctx())).source));
    const triedAtStart = tried.size;
    for (let seed = 0; seed < 20; seed++) {
      const p = await mutateProposer({ seed }).propose(ctx({ tried }));
      expect(tried.has(sourceHash(p.source))).toBe(false);
    }
    expect(triedAtStart).toBeGreaterThan(150);
  });

  it('falls back to the neighbour grid, then reports exhaustion when everything is tried', async () => {
    const source = 'DEPTH = 2  # layers\nSEED = 1\n';
    const tried = new Set([source, ...[1, 3].map((d) => source.replace('DEPTH = 2', `DEPTH = ${d}`))].map(sourceHash));
    const p = await mutateProposer({ seed: 3 }).propose(ctx({ source, tried }));
    expect(p.hypothesis).toBe('DEPTH 2 -> 4');
    for (const d of [4, 5, 6, 7]) tried.add(sourceHash(source.replace('DEPTH = 2', `DEPTH = ${d}`)));
    const err = await rejection(mutateProposer({ seed: 3 }).propose(ctx({ source, tried })));
    expect(err.kind).toBe('exhausted');
    expect(err.message).toContain('every nearby value of DEPTH was already tried');
  });

  it('reports a train.py without constants as exhausted', async () => {
    const err = await rejection(mutateProposer({ seed: 1 }).propose(ctx({ source: 'import torch\nSEED = 3\n' })));
    expect(err.kind).toBe('exhausted');
    expect(err.message).toContain('no numeric constants');
  });

  /** For 300 seeds: how often each constant is moved up or down. */
  async function tally(source: string, history: HistoryEntry[]): Promise<Map<string, { up: number; down: number }>> {
    const counts = new Map<string, { up: number; down: number }>();
    for (let seed = 0; seed < 300; seed++) {
      const p = await mutateProposer({ seed }).propose(ctx({ source, history }));
      for (const [name, [a, b]] of changed(source, p.source)) {
        const c = counts.get(name) ?? { up: 0, down: 0 };
        if (Number(b) > Number(a)) c.up++; else c.down++;
        counts.set(name, c);
      }
    }
    return counts;
  }

  it('follows a kept direction more often than not, and picks that constant more often', async () => {
    const source = TRAIN_PY.replace('MATRIX_LR = 0.02', 'MATRIX_LR = 0.03');
    const history = [entry(1, 'keep', 'baseline', '', 1.0), entry(2, 'keep', 'MATRIX_LR 0.02 -> 0.03', constantDiff('MATRIX_LR', '0.02', '0.03'), 0.99)];
    const counts = await tally(source, history);
    const lr = counts.get('MATRIX_LR')!;
    expect(lr.up).toBeGreaterThan(2 * lr.down);
    const others = [...counts].filter(([n]) => n !== 'MATRIX_LR').map(([, c]) => c.up + c.down);
    expect(lr.up + lr.down).toBeGreaterThan(Math.max(...others));
  });

  it('avoids repeating a discarded move from the current value', async () => {
    const history = [
      entry(1, 'keep', 'baseline', '', 1.0),
      entry(2, 'discard', 'MATRIX_LR 0.02 -> 0.04', constantDiff('MATRIX_LR', '0.02', '0.04'), 1.01),
      entry(3, 'crash', 'DEVICE_BATCH_SIZE 8 -> 16', constantDiff('DEVICE_BATCH_SIZE', '8', '16'), null, 'CUDA out of memory'),
    ];
    const counts = await tally(TRAIN_PY, history);
    const lr = counts.get('MATRIX_LR')!;
    expect(lr.down).toBeGreaterThan(3 * lr.up);
    const batch = counts.get('DEVICE_BATCH_SIZE')!;
    expect(batch.down).toBeGreaterThan(3 * batch.up);
  });

  it('takes smaller steps later in a run', async () => {
    const spread = async (history: HistoryEntry[]): Promise<number> => {
      let total = 0;
      let n = 0;
      for (let seed = 0; seed < 200; seed++) {
        const p = await mutateProposer({ seed }).propose(ctx({ history }));
        const lr = changed(TRAIN_PY, p.source).get('MATRIX_LR');
        if (lr) { total += Math.abs(Math.log(Number(lr[1]) / Number(lr[0]))); n++; }
      }
      return total / n;
    };
    const late = Array.from({ length: 150 }, (_, i) => entry(i + 1, 'discard', 'something else', '', 1.0));
    expect(await spread(late)).toBeLessThan(0.6 * (await spread([])));
  });
});

describe('the mutator in a swarm', () => {
  it("avoids what this node tried; a peer's run is left to the swarm check, which skips it where the user sees it", async () => {
    const first = await mutateProposer({ seed: 11 }).propose(ctx());
    const peerRan = sourceHash(first.source);
    // The same draw, with the peer's run known as a peer's: proposed (the loop then skips it, labelled with the peer)…
    const again = await mutateProposer({ seed: 11 }).propose(ctx({ tried: new Set([sourceHash(TRAIN_PY), peerRan]), triedHere: new Set([sourceHash(TRAIN_PY)]) }));
    expect(sourceHash(again.source)).toBe(peerRan);
    // …but never one this node ran itself.
    const own = await mutateProposer({ seed: 11 }).propose(ctx({ tried: new Set([sourceHash(TRAIN_PY), peerRan]), triedHere: new Set([sourceHash(TRAIN_PY), peerRan]) }));
    expect(sourceHash(own.source)).not.toBe(peerRan);
  });
});
