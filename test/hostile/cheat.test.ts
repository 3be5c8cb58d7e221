/**
 * The hostile corpus, cheats that lie about the number or reach for validation data: see escape.test.ts
 * for what is asserted. The honest baseline runs first, with the same seed, budget and data; every cheat
 * must crash or be recorded at no less than its value. The cheats that hand the harness a dishonest model
 * are in cheat-model.test.ts, so the two halves (each a dozen full trainings) run in parallel.
 */
import { describe } from 'vitest';
import { hostileSuite, MODEL_CHEATS } from './harness.js';

describe('hostile corpus: cheats on the number and the data', () => {
  hostileSuite({
    title: 'cheat (number, data)', classes: ['cheat'], timeoutSeconds: 240, honestBaseline: true,
    select: (name) => !MODEL_CHEATS.test(name),
  });
});
