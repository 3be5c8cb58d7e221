/**
 * The hostile corpus, resource abuse: see escape.test.ts for what is asserted. The node is asked for
 * small limits (harness.ts SMALL_LIMITS, through its config settings) so each flood (FLOODS) overshoots them
 * quickly; the floods are sized to be harmless on a box that has no limit at all.
 */
import { describe } from 'vitest';
import { hostileSuite } from './harness.js';

describe('hostile corpus: resource abuse', () => {
  hostileSuite({ title: 'resource', classes: ['resource'], timeoutSeconds: 15, smallLimits: true });
});
