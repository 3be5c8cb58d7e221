/**
 * The hostile corpus, cheats that hand the harness a dishonest model (reads the next token, non-causal,
 * mixes rows, reports its own loss, doctored after export): see escape.test.ts for what is asserted.
 */
import { describe } from 'vitest';
import { hostileSuite, MODEL_CHEATS } from './harness.js';

describe('hostile corpus: cheats with a dishonest model', () => {
  hostileSuite({ title: 'cheat (model)', classes: ['cheat'], timeoutSeconds: 240, honestBaseline: true, select: (name) => MODEL_CHEATS.test(name) });
});
