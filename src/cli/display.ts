import type { Logger } from '../core/index.js';
import type { LoopEvent } from '../loop/index.js';
import { createFeed, type FeedEvent } from './feed.js';
import { liveTracker, type TrackerOptions } from './live.js';
import { terminal } from './terminal.js';

/**
 * Everything that shows a running node: the terminal (log lines and a live line), what runs now on
 * each worker and what next (for `swarm status`), and the feed of events the dashboard streams.
 */
export function nodeDisplay(opts: TrackerOptions) {
  const live = liveTracker(opts);
  const feed = createFeed();
  const ui = terminal(live.workers);
  const log: Logger = feed.tee(ui.log);
  return {
    log,
    onEvent(event: LoopEvent): void {
      live.onEvent(event);
      ui.onEvent(event);
      feed.publish({ type: 'loop', event });
    },
    current: live.current,
    workers: live.workers,
    next: live.next,
    nextIn: live.nextIn,
    subscribe: (listener: (e: FeedEvent) => void) => feed.subscribe(listener),
    close: ui.close,
  };
}

/** Ctrl-C (or SIGTERM) aborts the signal: the node stops after killing the run in flight; twice quits at once. */
export function stopOnSignals(log: Logger): { signal: AbortSignal; dispose(): void } {
  const stop = new AbortController();
  const handler = (name: string) => () => {
    if (stop.signal.aborted) {
      log.warn('stopping now');
      process.exit(130);
    }
    log.info(`${name}: stopping; the run in flight resumes on the next join (again to quit at once)`);
    stop.abort();
  };
  const onInt = handler('SIGINT');
  const onTerm = handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: stop.signal,
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
