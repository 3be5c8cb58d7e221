/** What the swarm has explored, grouped into directions; and what a proposer is told about it. */

/** A fixed set of themes a change can belong to, read from its hypothesis (else from the names it touches). */
export const CATEGORIES = [
  'learning rate', 'schedule', 'batch', 'depth/width', 'attention', 'optimizer', 'regularisation',
  'initialisation', 'activation', 'normalisation', 'embedding', 'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** A place in train.py a change touches: a top-level constant, or a def/class (`Block.forward`). */
export interface Region {
  kind: 'constant' | 'code';
  /** An identifier (or two, dotted), at most 64 characters each: names from peers are bounded by construction. */
  name: string;
}

/** One experiment as the grouping sees it: this node's, a peer's result, or a peer's live claim. */
export interface Attempt {
  /** 'self', or the peer id that ran (or claimed) it. */
  who: string;
  status: 'keep' | 'discard' | 'crash' | 'running';
  /** Unified diff (parent → candidate); '' when unknown (a claim carries none). */
  diff: string;
  hypothesis: string;
  /** How much it lowered val_bpb against its parent (positive: better); null when unknown. */
  gain: number | null;
  /** When it ended (a claim: when it was signed), ISO 8601; attempts are taken in this order. */
  at: string;
}

/**
 * - open: in the current train.py, never tried anywhere;
 * - crowded: some node is running a change there right now (shown before saturated);
 * - saturated: tried at least SATURATION times and its last SATURATION tries were not kept;
 * - active: tried, still paying or not tried enough to tell.
 */
export type DirectionState = 'open' | 'active' | 'crowded' | 'saturated';

export interface Direction {
  /** `MATRIX_LR` for a constant, `Block.forward()` for code. */
  key: string;
  kind: Region['kind'];
  category: Category;
  tries: number;
  keeps: number;
  crashes: number;
  /** The largest val_bpb gain a kept change here brought; null when none was kept (or gains are unknown). */
  bestGain: number | null;
  /** Tries since its last keep (all of them when it was never kept). */
  sinceKeep: number;
  /** Distinct nodes that tried it. */
  nodes: number;
  /** Who runs a change there now ('self' or peer ids), at most 8. */
  running: string[];
  state: DirectionState;
}

/** What a proposer is told about the swarm's exploration (ProposalContext.exploration). */
export interface Exploration {
  /** This node went `plateauAfter` or more judged experiments without a keep: change how it proposes. */
  plateau: boolean;
  /** Judged experiments (discard, crash) of this node since its last keep. */
  sinceKeep: number;
  /** The configured plateau length; 0 when plateau detection is off. */
  plateauAfter: number;
  /** Direction keys tried enough and no longer paying, most tried first. */
  saturated: string[];
  /** Direction keys some node is running a change in right now. */
  crowded: string[];
  /** Direction keys of the current train.py nobody has tried yet. */
  open: string[];
  /** Categories nobody has tried yet. */
  openCategories: Category[];
}
