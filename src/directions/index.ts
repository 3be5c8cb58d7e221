/**
 * Directions: what the swarm has explored, grouped by the constants and code regions the diffs touch
 * (with a category from the hypothesis), how each paid off, who covers it now; and a node's plateau.
 * Pure functions over records; every name that comes out is a bounded identifier, never peer text.
 */
import type { ExperimentRecord } from '../core/index.js';
import type { SignedRecord } from '../p2p/index.js';
import { ownAttempts, peerAttempts, sinceLastKeep } from './attempts.js';
import { exploration, groupDirections } from './group.js';
import type { Direction, Exploration } from './types.js';

export type { Attempt, Category, Direction, DirectionState, Exploration, Region } from './types.js';
export { CATEGORIES } from './types.js';
export { categoryOf } from './category.js';
export { regionsOf, regionKey, sourceRegions, constantsMentioned } from './regions.js';
export { groupDirections, exploration, plateauOf, SATURATION, MAX_DIRECTIONS } from './group.js';
export { ownAttempts, peerAttempts, sinceLastKeep } from './attempts.js';

/** Default plateau length: judged experiments without a keep before a node changes how it proposes. */
export const DEFAULT_PLATEAU = 8;

export interface ExplorationView extends Exploration {
  directions: Direction[];
}

/** Directions and plateau of a node from its records, the swarm records it holds and its current best train.py. */
export function explorationView(records: readonly ExperimentRecord[], shared: readonly SignedRecord[], source: string, plateauAfter: number, now = Date.now()): ExplorationView {
  const attempts = [...ownAttempts(records), ...peerAttempts(shared, new Set(records.map((r) => r.id)), now)];
  const directions = groupDirections(attempts, source);
  return { ...exploration(directions, sinceLastKeep(records), plateauAfter), directions };
}
