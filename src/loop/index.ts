export { runLoop, type LoopInit, type LoopEvent, type LoopReport } from './loop.js';
export { latestKeep, toHistory, triedHashes } from './history.js';
