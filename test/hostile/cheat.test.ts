/**
 * The hostile corpus, cheats: see escape.test.ts for what is asserted. The honest baseline runs first,
 * with the same seed, budget and data; every cheat must crash or be recorded at no less than its value.
 */
import { describe } from 'vitest';
import { hostileSuite } from './harness.js';

describe('hostile corpus: cheats', () => {
  hostileSuite({ classes: ['cheat'], timeoutSeconds: 90, honestBaseline: true });
});
