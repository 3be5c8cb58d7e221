/** The hostile corpus, write + persistence variants: see escape.test.ts for what is asserted. */
import { describe } from 'vitest';
import { hostileSuite } from './harness.js';

describe('hostile corpus: write + persistence', () => {
  hostileSuite({ title: 'write+persistence', classes: ['write', 'persistence'], timeoutSeconds: 30 });
});
