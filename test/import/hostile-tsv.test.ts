/**
 * A hostile results.tsv: its descriptions become hypotheses shown in terminals (`swarm show`, status),
 * fed to the proposing agent and exported again; its rows are echoed in error messages.
 */
import { describe, expect, it } from 'vitest';
import { ImportError } from '../../src/core/index.js';
import { parseResultsTsv } from '../../src/import/tsv.js';

const HEADER = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription';
const tsv = (description: string) => new TextEncoder().encode(`${HEADER}\nbaseline\t0.997900\t44.0\tkeep\tbaseline\nabc1234\t0.990000\t44.0\tdiscard\t${description}\n`);
const refusal = (description: string): ImportError => {
  try {
    parseResultsTsv(tsv(description));
  } catch (err) {
    expect(err).toBeInstanceOf(ImportError);
    return err as ImportError;
  }
  throw new Error('accepted');
};

describe('results.tsv descriptions', () => {
  it.each([
    ['a right-to-left override', 'lr 0.04 \u202Eesab\u202C'],
    ['an isolate', 'x \u2066y\u2069'],
    ['a zero-width mark', 'lr\u200F 0.04'],
    ['a line separator', 'first\u2028second'],
    ['a byte-order mark', '\uFEFFhidden'],
  ])('refuses %s, and its error message shows the row without it', (_what, description) => {
    const err = refusal(description);
    expect(err.message).toMatch(/line 3|control or bidi/);
    expect(err.message).not.toMatch(/[\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u);
  });

  it('never echoes a C1 control (8-bit CSI) of a malformed row to the terminal', () => {
    const err = refusal('\u009b31mred\tsixth cell');
    expect(err.message).not.toMatch(/[\u0080-\u009f]/);
  });

  it('keeps ordinary descriptions, unicode included', () => {
    expect(parseResultsTsv(tsv('λ = 0.5 → GeLU (“wider”) 日本')).at(-1)!.description).toBe('λ = 0.5 → GeLU (“wider”) 日本');
  });
});
