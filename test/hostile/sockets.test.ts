/** The hostile corpus, sockets variants: see escape.test.ts for what is asserted. */
import { describe } from 'vitest';
import { hostileSuite } from './harness.js';

describe('hostile corpus: sockets', () => {
  hostileSuite({ title: 'sockets', classes: ['sockets'], timeoutSeconds: 30 });
});
