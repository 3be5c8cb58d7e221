import { describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { countsOf, milestones, type NodeView } from '../../src/demo/index.js';
import type { SignedRecord } from '../../src/p2p/index.js';

const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAaaaaaaaa';
const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBbbbbbbbb';
const names = new Map([[A, 'node-1'], [B, 'node-2']]);

let seq = 0;
function record(over: Partial<ExperimentRecord>): ExperimentRecord {
  seq += 1;
  return {
    v: 1, id: `e${seq}`, seq, status: 'discard', hypothesis: `h${seq}`, origin: { kind: 'proposer', proposer: 'mutate' },
    parentHash: 'p', hash: `h${seq}`, parentCommit: 'c', commit: 'c', diff: '', outcome: 'ok', reason: null, metrics: null,
    bestBefore: null, hardware: null, dataset: 'sotu', budgetSeconds: 300, attempts: 1,
    startedAt: `2026-12-01T10:00:${String(seq).padStart(2, '0')}Z`, endedAt: `2026-12-01T10:00:${String(seq).padStart(2, '0')}Z`, logTail: [], logPath: null,
    ...over,
  };
}
const result = (peer: string, over: Record<string, unknown>) =>
  ({ type: 'result', peer, experiment: 'x', hash: 'h', parentHash: 'p', status: 'keep', hypothesis: 'LR 1 -> 2', metrics: { val_bpb: 1.5 }, time: '2026-12-01T10:00:30Z', ...over }) as unknown as SignedRecord;

describe('what the demo announces', () => {
  it('does not count a baseline as a shared experiment, an own duplicate as a peer skip, nor an adopted train.py as a rebase', () => {
    const view: NodeView = {
      name: 'node-2', peerId: B,
      records: [
        record({ status: 'keep', origin: { kind: 'baseline', proposer: 'baseline' } }),
        record({ status: 'skip', reason: 'identical to #1, already tried here' }),
        record({ status: 'keep', origin: { kind: 'adopt', proposer: `adopt @${A.slice(-8)}` } }),
      ],
      shared: [result(A, { hash: 'same', parentHash: 'same', hypothesis: 'baseline' }), result(B, { hypothesis: 'mine' })],
    };
    expect(milestones([view], names)).toEqual([]);
    expect(countsOf(view)).toMatchObject({ experiments: 2, kept: 2, received: 1, skipped: 0, rebased: 0, replicated: 0 });
  });

  it('finds the earliest of each kind across nodes and names peers by node', () => {
    const one: NodeView = {
      name: 'node-1', peerId: A,
      records: [record({ status: 'skip', reason: `being run by peer ${B.slice(-8)} (claimed until …)`, hypothesis: 'DEPTH 4 -> 3' })],
      shared: [result(B, { hypothesis: 'late', time: '2026-12-01T10:00:50Z' }),
        { type: 'verify', peer: A, claimant: B, claimed: 1.5, val_bpb: 1.5, outcome: 'ok', verdict: 'confirm', time: '2026-12-01T10:00:40Z' } as unknown as SignedRecord],
    };
    const two: NodeView = {
      name: 'node-2', peerId: B,
      records: [record({ status: 'keep', origin: { kind: 'peer', proposer: `mutate @${A.slice(-8)}` }, hypothesis: 'LR 1 -> 2' })],
      shared: [result(A, { hypothesis: 'early', time: '2026-12-01T10:00:20Z' })],
    };
    const found = Object.fromEntries(milestones([one, two], names).map((m) => [m.kind, m.text]));
    expect(found.share).toBe('node-2 received node-1\'s result "early" (keep, val_bpb 1.5000)');
    expect(found.skip).toMatch(/^node-1 skipped #\d+ "DEPTH 4 -> 3": being run by node-2 \(claimed until …\)$/);
    expect(found.rebase).toMatch(/^node-2 rebased node-1's kept change "LR 1 -> 2" onto its own best and ran it as #\d+ → keep$/);
    expect(found.replicate).toBe("node-1 re-ran node-2's would-be best: claimed 1.5000, measured 1.5000 → confirm");
    expect(countsOf(one)).toMatchObject({ skipped: 1, replicated: 1, received: 1 });
  });
});
