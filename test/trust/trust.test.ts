import { describe, expect, it } from 'vitest';
import { hardwareClass, type Hardware } from '../../src/core/index.js';
import type { SignedRecord } from '../../src/p2p/index.js';
import { leaderboard, peerTable } from '../../src/swarm/index.js';
import {
  MIN_TOLERANCE, keepMargin, mayReplicate, noiseDue, peerCodeDecision, replicationTolerance, replicationVerdict, sampleSigma, standings,
} from '../../src/trust/index.js';

const HW = (name: string, count = 1): Hardware => ({ device: 'cuda', name, count, memoryGb: 80, torch: '2.13.0', cuda: '12.8', python: '3.11' });
let seq = 0;
const result = (peer: string, experiment: string, val_bpb: number, hardware = HW('H100')) => ({
  type: 'result', peer, seq: ++seq, experiment, status: 'keep', metrics: { val_bpb }, hardware, endedAt: `2026-01-01T00:00:${String(seq).padStart(2, '0')}Z`,
  hypothesis: experiment, proposer: 'mutate', lineage: [], hash: 'h', parentHash: 'p',
}) as unknown as SignedRecord;
const verify = (peer: string, claimant: string, experiment: string, verdict: 'confirm' | 'dispute', s = ++seq) =>
  ({ type: 'verify', peer, seq: s, claimant, experiment, verdict }) as unknown as SignedRecord;

describe('noise floor rules', () => {
  it('σ is the sample standard deviation; the margin is the larger of threshold and k·σ', () => {
    expect(sampleSigma([1])).toBeNull();
    expect(sampleSigma([1, 1, 1])).toBe(0);
    expect(sampleSigma([1, 2, 3])).toBeCloseTo(1, 12);
    const floor = { v: 1 as const, n: 1, hash: 'h', seeds: [1, 2], values: [1, 1.02], sigma: 0.01, k: 2, hardware: null, afterSeq: 1, at: '' };
    expect(keepMargin(0, floor)).toBeCloseTo(0.02, 12);
    expect(keepMargin(0.05, floor)).toBe(0.05);
    expect(keepMargin(0.003, undefined)).toBe(0.003);
    expect(keepMargin(0, { ...floor, sigma: null })).toBe(0);
  });

  it('is due first, then after `every` finished runs (pending runs counted when asked); never with no re-runs', () => {
    const rec = (seq: number, status: string) => ({ seq, status }) as never;
    const settings = { runs: 3, every: 2, k: 2 };
    expect(noiseDue([rec(1, 'keep')], undefined, settings)).toBe(true);
    const floor = { afterSeq: 1 } as never;
    expect(noiseDue([rec(1, 'keep'), rec(2, 'discard'), rec(3, 'invalid')], floor, settings)).toBe(false);
    expect(noiseDue([rec(1, 'keep'), rec(2, 'discard'), rec(3, 'crash')], floor, settings)).toBe(true);
    expect(noiseDue([rec(1, 'keep'), rec(2, 'discard')], floor, settings, 1)).toBe(true);
    expect(noiseDue([], undefined, { ...settings, runs: 0 })).toBe(false);
  });
});

describe('replication verdicts and standings', () => {
  it('confirms within claim + tolerance (better is fine), disputes worse or a crash', () => {
    expect(replicationTolerance(2, [null, undefined])).toBe(MIN_TOLERANCE);
    expect(replicationTolerance(2, [0.01, 0.003])).toBeCloseTo(0.02, 12);
    expect(replicationVerdict(1.0, 1.0199, 0.02)).toBe('confirm');
    expect(replicationVerdict(1.0, 0.9, 0.02)).toBe('confirm');
    expect(replicationVerdict(1.0, 1.0201, 0.02)).toBe('dispute');
    expect(replicationVerdict(1.0, null, 0.02)).toBe('dispute');
  });

  it('counts each verifier once (its latest word), ignores self-verification, and ties stay unverified', () => {
    const records = [
      result('L', 'e1', 0.5), result('H', 'e2', 0.9), result('T', 'e3', 0.95),
      verify('A', 'L', 'e1', 'dispute'), verify('B', 'L', 'e1', 'dispute'), verify('L', 'L', 'e1', 'confirm'),
      verify('A', 'H', 'e2', 'dispute', 100), verify('A', 'H', 'e2', 'confirm', 101),
      verify('A', 'T', 'e3', 'confirm'), verify('B', 'T', 'e3', 'dispute'),
    ];
    const s = standings(records);
    expect(s.get('L/e1')).toEqual({ standing: 'disputed', confirmations: 0, disputes: 2 });
    expect(s.get('H/e2')).toEqual({ standing: 'verified', confirmations: 1, disputes: 0 });
    expect(s.get('T/e3')).toEqual({ standing: 'unverified', confirmations: 1, disputes: 1 });

    const board = leaderboard(records);
    expect(board).toHaveLength(1);
    // The disputed 0.5 ranks last, below worse but undisputed results.
    expect(board[0]!.entries.map((e) => [e.experiment, e.standing])).toEqual([['e2', 'verified'], ['e3', 'unverified'], ['e1', 'disputed']]);
    const peers = peerTable(records);
    expect(peers.find((p) => p.peer === 'L')).toMatchObject({ disputed: 1, score: -2 });
    expect(peers.find((p) => p.peer === 'H')).toMatchObject({ verified: 1, score: 1 });
  });

  it('ranks hardware classes apart; the class is the unit one experiment runs on, whatever the box holds', () => {
    const records = [result('a', 'x', 0.9, HW('H100', 8)), result('b', 'y', 1.0, HW('H100')), result('c', 'z', 1.2, HW('Apple M3'))];
    expect(hardwareClass(HW('H100', 8))).toBe('H100');
    const board = leaderboard(records);
    expect(board.map((c) => [c.hardware, c.entries.map((e) => e.experiment)])).toEqual([['Apple M3', ['z']], ['H100', ['x', 'y']]]);
  });
});

describe('run policy', () => {
  const base = { allowlist: new Set(['friend']), peer: 'stranger', standing: 'unverified' as const, peerDisputed: false };
  it('decides per policy; a disputed result or peer is refused, a listed peer is trusted', () => {
    expect(peerCodeDecision({ ...base, policy: 'all' })).toEqual({ run: true });
    expect(peerCodeDecision({ ...base, policy: 'none', peer: 'friend' })).toMatchObject({ run: false, wait: false });
    expect(peerCodeDecision({ ...base, policy: 'allowlist' })).toMatchObject({ run: false, wait: false });
    expect(peerCodeDecision({ ...base, policy: 'allowlist', peer: 'friend' })).toEqual({ run: true });
    expect(peerCodeDecision({ ...base, policy: 'verified' })).toMatchObject({ run: false, wait: true });
    expect(peerCodeDecision({ ...base, policy: 'verified', standing: 'verified' })).toEqual({ run: true });
    expect(peerCodeDecision({ ...base, policy: 'all', standing: 'disputed', peer: 'friend' })).toMatchObject({ run: false, reason: expect.stringMatching(/disputed/) });
    expect(peerCodeDecision({ ...base, policy: 'all', peerDisputed: true })).toMatchObject({ run: false, reason: expect.stringMatching(/disputed claims/) });
    expect(peerCodeDecision({ ...base, policy: 'all', peerDisputed: true, peer: 'friend' })).toEqual({ run: true });
  });
  it('replicates only what it may run unverified', () => {
    expect(mayReplicate('all', new Set(), 'x')).toBe(true);
    expect(mayReplicate('verified', new Set(), 'x')).toBe(false);
    expect(mayReplicate('verified', new Set(['x']), 'x')).toBe(true);
    expect(mayReplicate('allowlist', new Set(), 'x')).toBe(false);
    expect(mayReplicate('none', new Set(['x']), 'x')).toBe(false);
  });
});
