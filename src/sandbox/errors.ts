import { SwarmError } from '../core/errors.js';

/** A fence could not be set up for a run (bad spec, a layer that worked at detection fails now). */
export class SandboxError extends SwarmError {}
