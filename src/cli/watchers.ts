import type { NodeConfig } from '../config/index.js';
import { serveControl, type LiveStatus } from '../control/index.js';
import type { Logger } from '../core/index.js';
import type { Store } from '../store/index.js';
import { runLogTail, startDashboard } from './dashboard.js';
import { bestSource } from './records.js';
import type { FeedEvent } from './feed.js';

export interface WatchersInit {
  config: Pick<NodeConfig, 'state' | 'dashboard' | 'dashboardToken' | 'plateau'>;
  store: Store;
  status(): LiveStatus;
  verify(ref: string): Promise<unknown>;
  subscribe(listener: (e: FeedEvent) => void): () => void;
  log: Logger;
}

/** What lets people watch a running node: the control socket (`swarm status`, `log`, `verify`…) and the dashboard. */
export async function serveWatchers(init: WatchersInit): Promise<{ close(): Promise<void> }> {
  const { store, status, log } = init;
  const control = await serveControl(init.config.state, {
    records: () => store.list(), shared: () => store.shared(), noise: () => store.noiseFloors(), verify: init.verify, status,
  });
  try {
    const dashboard = await startDashboard({
      listen: init.config.dashboard, token: init.config.dashboardToken, log,
      source: {
        snapshot: async () => ({
          records: await store.list(), shared: await store.shared(), noise: await store.noiseFloors(), live: status(),
          source: await bestSource(init.config.state), plateau: init.config.plateau,
        }),
        runLog: (record) => runLogTail(record),
        subscribe: init.subscribe,
      },
    });
    if (dashboard) log.info(`dashboard: ${dashboard.url}`);
    return {
      async close() {
        await dashboard?.close();
        await control.close();
      },
    };
  } catch (err) {
    await control.close();
    throw err;
  }
}
