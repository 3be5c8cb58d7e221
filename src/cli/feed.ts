import type { Logger } from '../core/index.js';
import type { LoopEvent } from '../loop/index.js';

/** What a node does, as it happens: the loop's events and its log lines (the dashboard's live feed). */
export type FeedEvent =
  | { type: 'loop'; event: LoopEvent }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string; at: string };

export interface Feed {
  publish(e: FeedEvent): void;
  /** Returns the unsubscribe. */
  subscribe(listener: (e: FeedEvent) => void): () => void;
  /** A logger that writes to `log` and publishes each line. */
  tee(log: Logger): Logger;
}

export function createFeed(): Feed {
  const listeners = new Set<(e: FeedEvent) => void>();
  const publish = (e: FeedEvent) => {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // a failing watcher must not stop the node
      }
    }
  };
  const line = (level: 'info' | 'warn' | 'error', message: string) => publish({ type: 'log', level, message, at: new Date().toISOString() });
  return {
    publish,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    tee: (log) => ({
      info: (m) => { log.info(m); line('info', m); },
      warn: (m) => { log.warn(m); line('warn', m); },
      error: (m) => { log.error(m); line('error', m); },
    }),
  };
}
