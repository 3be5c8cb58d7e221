/**
 * A mutex for the loop's shared state: every store and workspace (git) sequence of the workers runs
 * under it, one at a time, so git never runs concurrently with itself; only training runs in parallel.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after everything queued before it; a failure reaches the caller but does not jam the queue. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => {});
    return result;
  }
}

/**
 * Wakes every waiter when something changed (a run finished, a worker stopped). A waiter passes the
 * `epoch` it decided to wait at, so a change between that decision and the wait is not missed.
 */
export class Wake {
  private waiters: (() => void)[] = [];
  epoch = 0;

  wait(signal: AbortSignal, seen: number): Promise<void> {
    if (signal.aborted || seen !== this.epoch) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  notify(): void {
    this.epoch += 1;
    for (const w of this.waiters.splice(0)) w();
  }
}
