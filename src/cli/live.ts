import type { LiveRun, LiveStatus } from '../control/index.js';
import type { LoopEvent } from '../loop/index.js';

export type Current = LiveRun;
export type WorkerStatus = LiveStatus['workers'][number];

export interface TrackerOptions {
  /** The budget in its mode ("150k tokens"). */
  budget: string;
  /** Each worker's device, by worker index ("cuda:0", "cpu"). */
  devices: readonly string[];
}

interface Slot { device: string; current: Current | null; started: number }

/**
 * What runs now on every worker and what comes next, followed from the loop's events: the
 * terminal's live line, `swarm status` and the dashboard all read it.
 */
export function liveTracker({ budget, devices }: TrackerOptions) {
  const slots: Slot[] = devices.map((device) => ({ device, current: null, started: 0 }));
  let next: { text: string | null; runsBefore: number } = { text: null, runsBefore: 0 };

  /** A worker the devices did not name (the loop knows better) still gets its row. */
  const slot = (worker: number): Slot => {
    while (slots.length <= worker) slots.push({ device: 'unknown', current: null, started: 0 });
    return slots[worker]!;
  };
  const begin = (worker: number, c: Pick<Current, 'kind' | 'seq' | 'hypothesis' | 'expectedSeconds'>) => {
    const s = slot(worker);
    s.current = { ...c, step: null, loss: null, elapsedSeconds: 0, wallSeconds: 0, budget, fraction: null };
    s.started = Date.now();
  };
  const withWall = (s: Slot): Current | null => s.current && { ...s.current, wallSeconds: Math.round((Date.now() - s.started) / 1000) };

  function onEvent(e: LoopEvent): void {
    const s = slot(e.worker);
    switch (e.type) {
      case 'start':
        begin(e.worker, { kind: e.record.origin.kind === 'baseline' ? 'baseline' : 'experiment', seq: e.record.seq, hypothesis: e.record.hypothesis, expectedSeconds: e.expectedSeconds });
        break;
      case 'run':
        begin(e.worker, { kind: e.kind, seq: null, hypothesis: e.label, expectedSeconds: e.expectedSeconds });
        break;
      case 'progress':
        if (s.current) s.current = { ...s.current, step: e.step, loss: e.loss, elapsedSeconds: e.elapsedSeconds, fraction: e.fraction };
        break;
      case 'finish':
        if (s.current?.seq === e.record.seq) s.current = null;
        break;
      case 'ran':
        if (s.current?.seq === null) s.current = null;
        break;
      case 'next':
        next = { text: e.text, runsBefore: e.runsBefore };
        break;
    }
  }

  const workers = (): WorkerStatus[] => slots.map((s, worker) => ({ worker, device: s.device, current: withWall(s) }));

  return {
    onEvent,
    workers,
    /** The first busy worker's run, its wall time since start included (runs still starting up have no progress line yet). */
    current: (): Current | null => workers().find((w) => w.current !== null)?.current ?? null,
    next: () => next.text,
    /**
     * Seconds until the last thing `next` names starts: the first worker to free up, then the runs
     * before it shared among the workers, from how long runs took here lately.
     */
    nextIn: (): number | null => {
      const busy = slots.filter((s) => s.current !== null);
      const expected = busy.find((s) => s.current!.expectedSeconds !== null)?.current!.expectedSeconds ?? null;
      if (expected === null) return null;
      const now = Date.now();
      const free = busy.length < slots.length ? 0 : Math.min(...busy.map((s) => (s.current!.expectedSeconds ?? expected) - (now - s.started) / 1000));
      return Math.max(0, free) + Math.ceil(next.runsBefore / slots.length) * expected;
    },
  };
}
