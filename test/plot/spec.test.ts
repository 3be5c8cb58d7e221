import { describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import type { SignedRecord } from '../../src/p2p/index.js';
import { checkPlottable, nodeSpec, selfPeer, swarmSpec, type PlotSpec } from '../../src/plot/index.js';
import { record, resultOf } from './fixture.js';

const opts = { by: 'experiment' as const, program: 'abcdef0123456789' };
/** A skipped duplicate, as the loop records it. */
const skip = (seq: number): ExperimentRecord => ({ ...record(seq, 'discard', 1.3), status: 'skip', reason: 'already tried by peer 3MivAaRT' });

/** Shared records as a node holds them (signatures were checked when they arrived). */
const shared = (peer: string, bodies: object[]): SignedRecord[] =>
  bodies.map((b, i) => ({ ...b, v: 1, program: 'abcdef0123456789', peer, seq: i + 1, time: '2026-12-01T10:00:00.000Z', sig: 'x' }) as SignedRecord);

describe('nodeSpec', () => {
  const records = [
    record(1, 'keep', 1.52, 'baseline'), record(2, 'discard', 1.53), record(3, 'invalid', null), record(4, 'crash', null),
    skip(5), record(6, 'keep', 1.49), record(7, 'discard', 1.5), record(8, 'running', null),
  ];

  it('makes a point of every finished run only: no invalid proposal, skipped duplicate or run in flight', () => {
    const spec = nodeSpec(records, opts);
    expect(spec.points.map((p) => [p.x, p.status, p.y])).toEqual([
      [1, 'keep', 1.52], [2, 'discard', 1.53], [4, 'crash', null], [6, 'keep', 1.49], [7, 'discard', 1.5],
    ]);
    expect(spec.best).toEqual([{ x: 1, y: 1.52 }, { x: 6, y: 1.49 }, { x: 7, y: 1.49 }]);
    expect(spec.title).toBe('swarm progress: 5 experiments, 2 kept');
    expect(spec.subtitle).toBe('program abcdef01 · sotu, 3 s per run · best 1.490000');
  });

  it('names the budget as `swarm join` names programs', () => {
    expect(nodeSpec([{ ...record(1, 'keep', 1.5), budgetTokens: 150_000 }], { ...opts, program: null }).subtitle).toBe('sotu, 150k tokens per run · best 1.500000');
  });

  it("follows the node's best, its latest keep, as `swarm status` does", () => {
    const spec = nodeSpec([record(1, 'keep', 1.5), record(2, 'keep', 1.4), record(3, 'keep', 1.45, 'adopted a peer train.py')], opts);
    expect(spec.best.map((v) => v.y)).toEqual([1.5, 1.4, 1.45]);
  });

  it('orders by when runs ended with --by time', () => {
    const late = { ...record(2, 'discard', 1.53), endedAt: '2026-12-02T00:00:00.000Z' };
    const spec = nodeSpec([record(1, 'keep', 1.52), late, record(3, 'keep', 1.5)], { ...opts, by: 'time' });
    expect(spec.points.map((p) => p.x)).toEqual([record(1, 'keep', 1).endedAt, record(3, 'keep', 1).endedAt, late.endedAt]);
    expect(spec.best.at(-1)).toEqual({ x: late.endedAt, y: 1.5 });
  });

  it('labels the baseline and the 15 largest wins, not every keep', () => {
    // 25 keeps: the gain of keep i is i (in thousandths), so the largest wins are the last 15.
    let y = 2;
    const keeps = Array.from({ length: 25 }, (_, i) => record(i + 1, 'keep', (y -= i / 1000)));
    const spec = nodeSpec([...keeps, record(26, 'discard', 1.9)], opts);
    expect(spec.points.filter((p) => p.annotated).map((p) => p.x)).toEqual([1, ...Array.from({ length: 15 }, (_, i) => i + 11)]);
    expect(swarmSpec([], { ...opts, self: null }).swarm).toBe(true);
  });

  it('makes hypotheses one short line of text', () => {
    const spec = nodeSpec([record(1, 'keep', 1.5, `a\nb\u001b[31m\u0085c ${'x'.repeat(100)}`)], opts);
    expect(spec.points[0]!.label).toMatch(/^#1 a b \[31m c x+…$/);
    expect([...spec.points[0]!.label]).toHaveLength(48);
  });

  it('says in one line why there is nothing to plot', () => {
    expect(() => checkPlottable(nodeSpec([record(1, 'invalid', null), skip(2)], opts), 'in /s')).toThrow('nothing to plot: no experiment has finished in /s yet');
    expect(() => checkPlottable(nodeSpec([record(1, 'crash', null)], opts), 'in /s')).toThrow('all 1 finished experiments in /s crashed');
    expect(() => checkPlottable(nodeSpec([record(1, 'crash', null), record(2, 'discard', 1.6)], opts), 'in /s')).not.toThrow();
  });
});

describe('swarmSpec', () => {
  const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
  const C = '12D3KooWCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC';
  const mine = [record(1, 'keep', 1.52), record(2, 'crash', null), record(4, 'discard', 1.6)];
  const theirs = [{ ...record(3, 'keep', 1.40, 'too good to be true'), id: 'theirs-3' }, { ...record(5, 'keep', 1.47), id: 'theirs-5' }];
  const dispute = (verifier: string) => ({ type: 'verify', claimant: B, experiment: 'theirs-3', hash: 'b'.repeat(64), claimed: 1.4, val_bpb: 1.52, outcome: 'ok', tolerance: 0.01, verdict: 'dispute', hardware: null });
  const records = [
    ...shared(A, mine.map(resultOf)),
    ...shared(B, [...theirs.map(resultOf), { type: 'claim', experiment: 'x', fingerprint: 'e'.repeat(64) }]),
    ...shared(C, [dispute(C)]), ...shared(A, [dispute(A)]).map((r) => ({ ...r, seq: 99 })),
  ];

  it("numbers every peer's results in the order they finished, one series per peer", () => {
    const spec = swarmSpec(records, { ...opts, self: A });
    expect(spec.points.map((p) => [p.x, p.series, p.status])).toEqual([[1, 0, 'keep'], [2, 0, 'crash'], [3, 1, 'keep'], [4, 0, 'discard'], [5, 1, 'keep']]);
    expect(spec.series.map((s) => s.self)).toEqual([true, false]);
    expect(spec.series[0]!.name).toBe('AAAAAAAA (this node): 3 experiments, best 1.5200');
    expect(spec.title).toBe('swarm progress: 5 experiments by 2 peers, 3 kept');
  });

  it("leaves a disputed result out of the swarm's best and marks it", () => {
    const spec = swarmSpec(records, { ...opts, self: A });
    expect(spec.points[2]).toMatchObject({ status: 'keep', y: 1.4, disputed: true });
    expect(spec.best).toEqual([{ x: 1, y: 1.52 }, { x: 5, y: 1.47 }]);
  });

  it('finds this node among the peers by its experiment ids when it is not running', () => {
    expect(selfPeer(records, mine, null)).toBe(A);
    expect(selfPeer(records, mine, C)).toBe(C);
    expect(selfPeer(records, [record(9, 'keep', 1)], null)).toBeNull();
  });

  it('has nothing to plot when no peer has shared a result', () => {
    const spec: PlotSpec = swarmSpec(shared(C, [dispute(C)]), { ...opts, self: null });
    expect(spec.points).toEqual([]);
    expect(() => checkPlottable(spec, 'in the swarm')).toThrow('no experiment has finished in the swarm yet');
  });
});
