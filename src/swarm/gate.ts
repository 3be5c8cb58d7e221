import { SwarmError } from '../core/index.js';
import { screenPatch } from '../screen/index.js';
import { mayReplicate, type RunPolicy } from '../trust/index.js';

/** Why a peer's code is not run here: the run policy, the screen, or a box without a sandbox. */
export class RefusedError extends SwarmError {
  readonly code: 'policy' | 'screen' | 'sandbox';
  constructor(code: RefusedError['code'], message: string) {
    super(message, {
      hint: code === 'policy' ? 'the node\'s --run-policy / allowlist decides whose code runs here'
        : code === 'sandbox' ? 'install bubblewrap, or pass --allow-unsandboxed if you trust this code'
          : 'the static screen refuses code that reaches outside training; read the reasons above',
    });
    this.code = code;
  }
}

export interface GateInit {
  policy: RunPolicy;
  allowlist: ReadonlySet<string>;
  /** Why no peer's code may run on this box at all (no sandbox, not allowed), or null. */
  refusePeerCode: string | null;
}

/**
 * Why this box must not re-run `peer`'s train.py `source` (a replication, `swarm verify` from the
 * CLI or the control socket), or null: the same sandbox rule, run policy and screen as every other
 * run of a peer's code. `best` is this node's current train.py, which the screen compares with.
 */
export function replicationRefusal(gate: GateInit, peer: string, source: string, best: string): RefusedError | null {
  if (gate.refusePeerCode !== null) return new RefusedError('sandbox', gate.refusePeerCode);
  if (!mayReplicate(gate.policy, gate.allowlist, peer)) {
    return new RefusedError('policy', `run policy '${gate.policy}': this node does not re-run the code of peer …${peer.slice(-8)}`);
  }
  const screen = screenPatch({ files: ['train.py'], diff: '', before: best, after: source });
  return screen.ok ? null : new RefusedError('screen', `refused peer train.py: ${screen.reasons.join('; ')}`);
}
