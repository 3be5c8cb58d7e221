/** A live, read-only web page of a node and its swarm: progress chart, leaderboard, run in flight, experiments, peers, feed. */
export { serveDashboard } from './server.js';
export { DashboardError } from './assets.js';
export type { DashboardSource, DashboardEvent, DashboardSnapshot, DashboardOptions, DashboardServer, FeedEntry } from './types.js';
