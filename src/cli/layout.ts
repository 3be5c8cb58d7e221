import { join } from 'node:path';

/** Where a node keeps each kind of state inside its state folder. */
export function stateLayout(state: string) {
  return {
    db: join(state, 'db'),
    workspace: join(state, 'workspace.git'),
    runs: join(state, 'runs'),
    identity: join(state, 'identity.key'),
  };
}
