import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatStatus, workersLine } from '../../src/cli/format.js';
import { liveTracker } from '../../src/cli/live.js';
import type { LiveStatus } from '../../src/control/index.js';
import type { ExperimentRecord } from '../../src/core/index.js';
import type { LoopEvent } from '../../src/loop/index.js';
import { record } from '../plot/fixture.js';

const T0 = Date.parse('2026-12-01T20:00:00Z');
const running = (seq: number, hypothesis: string): ExperimentRecord => ({ ...record(seq, 'running', null, hypothesis), origin: { kind: 'proposer', proposer: 'mutate' } });
const start = (worker: number, seq: number, hypothesis: string): LoopEvent => ({ worker, type: 'start', record: running(seq, hypothesis), expectedSeconds: 30 });
const progress = (worker: number, seq: number, step: number, fraction: number): LoopEvent => ({ worker, type: 'progress', seq, step, loss: 4 - fraction, elapsedSeconds: step / 10, fraction });

function status(t: ReturnType<typeof liveTracker>): LiveStatus {
  return { pid: 7, startedAt: new Date(T0).toISOString(), current: t.current(), workers: t.workers(), next: t.next(), nextIn: t.nextIn(), swarm: null };
}
const nowLines = (text: string) => text.split('\n').filter((l) => l.startsWith('now:'));

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe('swarm status with several workers', () => {
  it('one worker: the single now line of before, without a worker label', () => {
    const t = liveTracker({ budget: '150k tokens', devices: ['cpu'] });
    t.onEvent(start(0, 12, 'raise the learning rate'));
    t.onEvent(progress(0, 12, 40, 0.45));
    const text = formatStatus('/tmp/s', [], status(t));
    expect(nowLines(text)).toEqual(['now:         #12 raise the learning rate | 45 % of a 150k tokens budget | step 40 loss 3.5500']);
    expect(status(t).workers).toEqual([{ worker: 0, device: 'cpu', current: expect.objectContaining({ seq: 12, fraction: 0.45 }) }]);
    t.onEvent({ worker: 0, type: 'finish', record: { ...running(12, 'x'), status: 'keep' } });
    expect(nowLines(formatStatus('/tmp/s', [], status(t)))).toEqual(['now:         preparing the next run']);
  });

  it('two workers: one now line each, with its device and its own progress; current is the first busy one', () => {
    const t = liveTracker({ budget: '300 s', devices: ['cuda:0', 'cuda:1'] });
    t.onEvent(start(0, 12, 'depth 6'));
    t.onEvent(start(1, 13, 'warmup 200 steps'));
    t.onEvent(progress(1, 13, 90, 0.7));
    t.onEvent(progress(0, 12, 30, 0.2));
    expect(nowLines(formatStatus('/tmp/s', [], status(t)))).toEqual([
      'now:         worker 0 (cuda:0): #12 depth 6 | 20 % of a 300 s budget | step 30 loss 3.8000',
      'now:         worker 1 (cuda:1): #13 warmup 200 steps | 70 % of a 300 s budget | step 90 loss 3.3000',
    ]);
    expect(t.current()).toMatchObject({ seq: 12, step: 30 });
    // Worker 0 finishes: its row says so, worker 1 runs on untouched, and old readers' `current` moves to it.
    t.onEvent({ worker: 0, type: 'finish', record: { ...running(12, 'depth 6'), status: 'discard' } });
    const after = status(t);
    expect(after.current).toMatchObject({ seq: 13, step: 90, fraction: 0.7 });
    expect(nowLines(formatStatus('/tmp/s', [], after))).toEqual([
      'now:         worker 0 (cuda:0): preparing its next run',
      'now:         worker 1 (cuda:1): #13 warmup 200 steps | 70 % of a 300 s budget | step 90 loss 3.3000',
    ]);
    // A noise run on worker 0 ends only on worker 0.
    t.onEvent({ worker: 0, type: 'run', kind: 'noise', label: 'noise run 1 of 2 (seed 7)', expectedSeconds: 30 });
    vi.advanceTimersByTime(4000);
    expect(workersLine(t.workers())).toBe('w0 noise run 1 of 2 (seed 7) starting, 4 s · w1 #13 70 % loss 3.3000');
    t.onEvent({ worker: 0, type: 'ran', kind: 'noise', label: 'noise run 1 of 2 (seed 7)', outcome: 'ok', valBpb: 1.8 });
    expect(t.workers().map((w) => w.current?.seq ?? null)).toEqual([null, 13]);
  });

  it('an event from a worker the devices did not name still gets its row', () => {
    const t = liveTracker({ budget: '300 s', devices: ['cpu'] });
    t.onEvent(start(2, 5, 'late worker'));
    expect(t.workers().map((w) => [w.worker, w.device, w.current?.seq ?? null])).toEqual([[0, 'cpu', null], [1, 'unknown', null], [2, 'unknown', 5]]);
  });

  it('next is node-wide: it starts when the first worker frees up, the runs before it shared among the workers', () => {
    const t = liveTracker({ budget: '300 s', devices: ['cuda:0', 'cuda:1'] });
    t.onEvent(start(0, 12, 'a'));
    // One worker idle: the next thing starts as soon as it is drafted.
    t.onEvent({ worker: 0, type: 'next', text: 'the next experiment', runsBefore: 0 });
    expect(t.nextIn()).toBe(0);
    vi.advanceTimersByTime(10_000);
    t.onEvent(start(1, 13, 'b'));
    t.onEvent({ worker: 1, type: 'next', text: 'noise runs', runsBefore: 2 });
    vi.advanceTimersByTime(2_000);
    // Worker 0 frees in 30 − 12 = 18 s; two runs before it on two workers take one run's time (30 s).
    expect(t.nextIn()).toBe(48);
    expect(status(t)).toMatchObject({ next: 'noise runs', nextIn: 48 });
    const text = formatStatus('/tmp/s', [], status(t));
    expect(text).toContain('next:        noise runs (in ~50 s)');
  });

  it('a status from a node without workers prints the single now line', () => {
    const t = liveTracker({ budget: '300 s', devices: ['cpu'] });
    t.onEvent(start(0, 3, 'old node'));
    const { workers: _, ...old } = status(t);
    expect(nowLines(formatStatus('/tmp/s', [], old as LiveStatus))).toEqual(['now:         #3 old node | starting, 0 s']);
  });
});
