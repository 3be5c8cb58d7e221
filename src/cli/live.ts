import type { LiveStatus } from '../control/index.js';
import type { LoopEvent } from '../loop/index.js';

export type Current = NonNullable<LiveStatus['current']>;

/**
 * What runs now and what comes next, followed from the loop's events: the terminal's live line,
 * `swarm status` and the dashboard all read it. `budget` is the budget in its mode ("150k tokens").
 */
export function liveTracker(budget: string) {
  let current: Current | null = null;
  let next: { text: string | null; runsBefore: number } = { text: null, runsBefore: 0 };
  let started = 0;

  const begin = (c: Pick<Current, 'kind' | 'seq' | 'hypothesis' | 'expectedSeconds'>) => {
    current = { ...c, step: null, loss: null, elapsedSeconds: 0, wallSeconds: 0, budget, fraction: null };
    started = Date.now();
  };

  function onEvent(e: LoopEvent): void {
    switch (e.type) {
      case 'start':
        begin({ kind: e.record.origin.kind === 'baseline' ? 'baseline' : 'experiment', seq: e.record.seq, hypothesis: e.record.hypothesis, expectedSeconds: e.expectedSeconds });
        break;
      case 'run':
        begin({ kind: e.kind, seq: null, hypothesis: e.label, expectedSeconds: e.expectedSeconds });
        break;
      case 'progress':
        if (current) current = { ...current, step: e.step, loss: e.loss, elapsedSeconds: e.elapsedSeconds, fraction: e.fraction };
        break;
      case 'finish':
        if (current?.seq === e.record.seq) current = null;
        break;
      case 'ran':
        if (current?.seq === null) current = null;
        break;
      case 'next':
        next = { text: e.text, runsBefore: e.runsBefore };
        break;
    }
  }

  return {
    onEvent,
    /** The run in flight; its wall time since start, for runs still starting up (no progress line yet). */
    current: (): Current | null => current && { ...current, wallSeconds: Math.round((Date.now() - started) / 1000) },
    next: () => next.text,
    /** Seconds until the last thing `next` names starts, from how long runs took here lately. */
    nextIn: (): number | null => {
      const c = current;
      if (!c || c.expectedSeconds === null) return null;
      const wall = (Date.now() - started) / 1000;
      return Math.max(0, c.expectedSeconds - wall) + next.runsBefore * c.expectedSeconds;
    },
  };
}
