import { describe, expect, it } from 'vitest';
import { ProposalError } from '../../src/core/index.js';
import { applyEdits, parseEdits } from '../../src/agent/index.js';
import { TRAIN_PY } from './fixtures.js';

function block(search: string, replace: string): string {
  return `<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE`;
}

function failure(fn: () => unknown): ProposalError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProposalError);
    return err as ProposalError;
  }
  throw new Error('expected a ProposalError');
}

describe('parseEdits', () => {
  it('reads the hypothesis and every block, in order', () => {
    const reply = `Some thoughts first.\nHYPOTHESIS: deeper and wider\n\n${block('DEPTH = 4  # layers', 'DEPTH = 6  # layers')}\n\n${block('MODEL_DIM = 256', 'MODEL_DIM = 384')}\n`;
    const parsed = parseEdits(reply);
    expect(parsed.hypothesis).toBe('deeper and wider');
    expect(parsed.edits).toEqual([
      { search: 'DEPTH = 4  # layers', replace: 'DEPTH = 6  # layers' },
      { search: 'MODEL_DIM = 256', replace: 'MODEL_DIM = 384' },
    ]);
  });

  it('tolerates markdown around the hypothesis, code fences, CRLF and <think> sections', () => {
    const reply = '<think>SEARCH? maybe\n=======\n</think>\r\n**HYPOTHESIS:** `lower LR`\r\n\r\n```python\r\n<<<<<<< SEARCH\r\nMATRIX_LR = 0.02\r\n=======\r\nMATRIX_LR = 0.01\r\n>>>>>>> REPLACE\r\n```\r\n';
    const parsed = parseEdits(reply);
    expect(parsed.hypothesis).toBe('lower LR');
    expect(parsed.edits).toEqual([{ search: 'MATRIX_LR = 0.02', replace: 'MATRIX_LR = 0.01' }]);
  });

  it('drops fences written just inside a block', () => {
    const parsed = parseEdits(`HYPOTHESIS: x\n<<<<<<< SEARCH\n\`\`\`python\nMATRIX_LR = 0.02\n\`\`\`\n=======\n\`\`\`python\nMATRIX_LR = 0.01\n\`\`\`\n>>>>>>> REPLACE`);
    expect(parsed.edits).toEqual([{ search: 'MATRIX_LR = 0.02', replace: 'MATRIX_LR = 0.01' }]);
  });

  it('keeps an empty REPLACE (a deletion) and returns null when there is no hypothesis', () => {
    const parsed = parseEdits(block('SEED = 42', ''));
    expect(parsed.hypothesis).toBeNull();
    expect(parsed.edits).toEqual([{ search: 'SEED = 42', replace: '' }]);
  });

  it('rejects replies without a usable block, saying why', () => {
    expect(failure(() => parseEdits('I would raise the LR.')).message).toBe('reply has no SEARCH/REPLACE block');
    expect(failure(() => parseEdits('   ')).kind).toBe('malformed');
    const unterminated = failure(() => parseEdits(`HYPOTHESIS: x\n${block('A = 1', 'A = 2')}\n<<<<<<< SEARCH\nB = 1\n=======\nB = 2\n`));
    expect(unterminated.kind).toBe('malformed');
    expect(unterminated.message).toBe('block 2: reply ends before ">>>>>>> REPLACE"');
    expect(failure(() => parseEdits('<<<<<<< SEARCH\nA = 1\n>>>>>>> REPLACE')).message).toContain('block 1: missing "=======" between SEARCH and REPLACE');
    expect(failure(() => parseEdits(block('', 'A = 1'))).message).toContain('block 1: the SEARCH section is empty');
    expect(failure(() => parseEdits('A = 1\n>>>>>>> REPLACE')).message).toContain('without a preceding "<<<<<<< SEARCH"');
  });
});

describe('applyEdits', () => {
  it('applies an exact match', () => {
    const out = applyEdits(TRAIN_PY, [{ search: 'MATRIX_LR = 0.02', replace: 'MATRIX_LR = 0.04' }]);
    expect(out).toBe(TRAIN_PY.replace('MATRIX_LR = 0.02', 'MATRIX_LR = 0.04'));
  });

  it('applies several edits in order, each to the previous result', () => {
    const out = applyEdits(TRAIN_PY, [
      { search: 'DEPTH = 4  # layers', replace: 'DEPTH = 5  # layers' },
      { search: 'DEPTH = 5  # layers\nMODEL_DIM = 256', replace: 'DEPTH = 5  # layers\nMODEL_DIM = 320' },
    ]);
    expect(out).toContain('DEPTH = 5  # layers\nMODEL_DIM = 320\n');
  });

  it('matches despite trailing whitespace', () => {
    const out = applyEdits(TRAIN_PY, [{ search: 'MATRIX_LR = 0.02   \nEMBEDDING_LR = 0.3 ', replace: 'MATRIX_LR = 0.02\nEMBEDDING_LR = 0.6' }]);
    expect(out).toContain('EMBEDDING_LR = 0.6\n');
  });

  it('matches with different indentation and re-indents the replacement', () => {
    const search = 'def forward(self, x):\n    x = self.fc(x)\n    x = torch.relu(x).square()';
    const replace = 'def forward(self, x):\n    x = self.fc(x)\n    x = torch.nn.functional.gelu(x)';
    const out = applyEdits(TRAIN_PY, [{ search, replace }]);
    expect(out).toContain('    def forward(self, x):\n        x = self.fc(x)\n        x = torch.nn.functional.gelu(x)\n        x = self.proj(x)');
  });

  it('refuses an ambiguous SEARCH, naming the edit and the lines', () => {
    const err = failure(() => applyEdits(TRAIN_PY, [
      { search: 'SEED = 42', replace: 'SEED = 43' },
      { search: '        x = self.fc(x)', replace: '        x = self.fc(x) * 2' },
    ]));
    expect(err.kind).toBe('no-apply');
    expect(err.message).toMatch(/^edit 2 of 2: SEARCH text matches 2 places in train\.py \(lines \d+, \d+\)/);
  });

  it('refuses a SEARCH that is not there, quoting its first line and where it diverges', () => {
    const missing = failure(() => applyEdits(TRAIN_PY, [
      { search: 'SEED = 42', replace: 'SEED = 43' },
      { search: '        x = torch.gelu(x)', replace: '' },
    ]));
    expect(missing.kind).toBe('no-apply');
    expect(missing.message).toBe('edit 2 of 2: SEARCH text not found in train.py (first line: "        x = torch.gelu(x)")');
    const diverging = failure(() => applyEdits(TRAIN_PY, [{ search: 'MATRIX_LR = 0.02\nEMBEDDING_LR = 0.5', replace: 'x' }]));
    expect(diverging.message).toContain('its first 1 line(s) match at line 10');
    expect(diverging.message).toContain('"EMBEDDING_LR = 0.5" differs from train.py line 11 "EMBEDDING_LR = 0.3"');
  });

  it('refuses edits that change nothing', () => {
    const err = failure(() => applyEdits(TRAIN_PY, [{ search: 'SEED = 42', replace: 'SEED = 42' }]));
    expect(err.kind).toBe('no-apply');
    expect(err.message).toBe('the edits leave train.py unchanged');
  });

  it('keeps CRLF line endings of a CRLF train.py', () => {
    const crlf = TRAIN_PY.replace(/\n/g, '\r\n');
    const out = applyEdits(crlf, parseEdits(`HYPOTHESIS: x\n${block('MATRIX_LR = 0.02', 'MATRIX_LR = 0.05')}`).edits);
    expect(out).toBe(crlf.replace('MATRIX_LR = 0.02', 'MATRIX_LR = 0.05'));
  });

  it('deletes lines for an empty REPLACE', () => {
    const out = applyEdits(TRAIN_PY, [{ search: 'SEED = 42', replace: '' }]);
    expect(out).not.toContain('SEED = 42');
    expect(out.split('\n')).toHaveLength(TRAIN_PY.split('\n').length - 1);
  });
});
