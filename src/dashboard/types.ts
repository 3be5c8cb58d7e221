import type { LiveStatus } from '../control/index.js';
import type { ExperimentRecord, Logger, NoiseFloor } from '../core/index.js';
import type { LoopEvent } from '../loop/index.js';

/** What the dashboard shows, read whenever it needs fresh data. */
export interface DashboardSnapshot {
  records: ExperimentRecord[];
  /** Signed swarm records of every peer (this node's included), as the store holds them. */
  shared: unknown[];
  noise: NoiseFloor[];
  /** Set while a node runs on the state folder. */
  live: LiveStatus | null;
  /** The node's current best train.py: its untried constants and defs are the open directions (none without it). */
  source?: string;
  /** The plateau length the node runs with (default DEFAULT_PLATEAU). */
  plateau?: number;
}

/** Where the dashboard reads from: a running node (join) or a stopped node's store (`swarm dashboard`). */
export interface DashboardSource {
  snapshot(): Promise<DashboardSnapshot>;
  /** The tail of a local run's log; without it the record's own logTail is shown. */
  runLog?(record: ExperimentRecord): Promise<string[]>;
  /** Live events; without it the dashboard polls snapshot() and pushes an update when it changed. */
  subscribe?(listener: (e: DashboardEvent) => void): () => void;
}

export type DashboardEvent =
  | { type: 'loop'; event: LoopEvent }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string; at: string };

/** One line of the page's feed of swarm events. */
export interface FeedEntry {
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface DashboardOptions {
  source: DashboardSource;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Required off loopback: null there means one is generated. On loopback, null means none is asked. */
  token: string | null;
  log: Logger;
  /** How often snapshot() is read while a page is open, ms (default 2000). */
  pollMs?: number;
}

export interface DashboardServer {
  /** The address to open, with `?token=` when a token guards it. */
  url: string;
  host: string;
  port: number;
  token: string | null;
  close(): Promise<void>;
}
