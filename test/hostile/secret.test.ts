/** The hostile corpus, secret variants: see escape.test.ts for what is asserted. */
import { describe } from 'vitest';
import { hostileSuite } from './harness.js';

describe('hostile corpus: secret', () => {
  hostileSuite({ title: 'secret', classes: ['secret'], timeoutSeconds: 30 });
});
