export { runLoop, type LoopInit, type LoopEvent, type LoopReport, type PeerCandidate, type Replication, type SwarmHooks } from './loop.js';
export { latestKeep, toHistory, triedHashes } from './history.js';
export { runFolderName } from './run-folder.js';
export { newId } from './ids.js';
