/** The swarm side of a node: sharing results, vetoing repeats, rebasing peers' wins, the shared ranking. */
export { swarmLink, type SwarmLink, type LinkInit } from './link.js';
export { leaderboard, peerTable, type LeaderboardClass, type LeaderboardEntry, type PeerEntry } from './leaderboard.js';
export { fingerprint, diffFiles } from './fingerprint.js';
export { replicationRefusal, RefusedError, type GateInit } from './gate.js';
export { publishedReason } from './reason-code.js';
