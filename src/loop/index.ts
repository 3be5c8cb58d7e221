export { runLoop, type LoopInit, type LoopEvent, type LoopReport, type PeerCandidate, type SwarmHooks } from './loop.js';
export { latestKeep, toHistory, triedHashes } from './history.js';
