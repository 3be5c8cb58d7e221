/** Starting the dashboard from the CLI: `swarm join` (live source) and `swarm dashboard --state DIR` (polled store). */
import { open } from 'node:fs/promises';
import type { NodeConfig } from '../config/index.js';
import { ConfigError, type ExperimentRecord, type Logger } from '../core/index.js';
import { serveDashboard, type DashboardSource } from '../dashboard/index.js';
import { screenLines } from '../runner/index.js';
import { bestSource, readSnapshot } from './records.js';

export interface DashboardInit {
  /** 'off', or 'HOST:PORT' ('[::1]:8470' for IPv6; port 0 picks a free one). */
  listen: string;
  /** Required off loopback; generated there when null. */
  token: string | null;
  source: DashboardSource;
  log: Logger;
  pollMs?: number;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(`dashboard address "${listen}" is not HOST:PORT`, { hint: "use e.g. 127.0.0.1:8470, [::1]:8470, 0.0.0.0:8470 (token required) or 'off'" });
  }
  return { host: m[1]!, port };
}

/** Serves the dashboard, or returns null for 'off'. A taken port falls back to a free one. */
export async function startDashboard(init: DashboardInit): Promise<{ url: string; close(): Promise<void> } | null> {
  if (init.listen.trim() === 'off') return null;
  const { host, port } = parseListen(init.listen);
  const serve = (p: number) => serveDashboard({ source: init.source, host, port: p, token: init.token, log: init.log, pollMs: init.pollMs });
  try {
    return await serve(port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    init.log.warn(`dashboard: port ${port} is taken; serving on a free port instead`);
    return serve(0);
  }
}

const TAIL_BYTES = 256 * 1024;
const DEFAULT_LISTEN = '127.0.0.1:8470';

/** The last lines of a local run's log file (its end only: logs can be long), else the record's own tail. */
export async function runLogTail(record: ExperimentRecord, lines = 200): Promise<string[]> {
  if (!record.logPath) return record.logTail;
  try {
    const file = await open(record.logPath, 'r');
    try {
      const { size } = await file.stat();
      const start = Math.max(0, size - TAIL_BYTES);
      const { buffer, bytesRead } = await file.read(Buffer.alloc(size - start), 0, size - start, start);
      let text = buffer.subarray(0, bytesRead).toString('utf8');
      if (start > 0) text = text.slice(text.indexOf('\n') + 1); // a partial first line
      return screenLines(text).slice(-lines);
    } finally {
      await file.close();
    }
  } catch {
    return record.logTail;
  }
}

/**
 * Calls that come while one is in flight share its result. A stopped node's store admits one
 * opener at a time, even within one process: a second concurrent read would find it locked.
 */
export function singleFlight<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}

/** `swarm dashboard`: a node's page from its state folder, stopped or running, polled. */
export async function dashboardCommand(config: Pick<NodeConfig, 'state' | 'dashboard' | 'dashboardToken' | 'plateau'>, log: Logger): Promise<void> {
  const { state } = config;
  await readSnapshot(state); // fails now, with its hint, when nothing ever ran here
  // 'off' turns off the page `swarm join` serves; asking for this one by name still serves it.
  const listen = config.dashboard === 'off' ? DEFAULT_LISTEN : config.dashboard;
  const read = async () => ({ ...(await readSnapshot(state)), source: await bestSource(state), plateau: config.plateau });
  const source: DashboardSource = { snapshot: singleFlight(read), runLog: (r) => runLogTail(r) };
  const dash = (await startDashboard({ listen, token: config.dashboardToken, source, log, pollMs: 3000 }))!;
  log.info(`dashboard of ${state}: ${dash.url}  (Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dash.close();
}
