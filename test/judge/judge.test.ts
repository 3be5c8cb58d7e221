import { describe, expect, it } from 'vitest';
import { judge } from '../../src/judge/index.js';

describe('judge', () => {
  const metrics = (val_bpb: number) => ({ val_bpb, training_seconds: 1, total_seconds: 1, peak_vram_mb: 0, mfu_percent: 0, total_tokens_M: 0, num_steps: 1, num_params_M: 1, depth: 1 });
  it('keeps only clean runs that beat the best by more than the threshold', () => {
    expect(judge({ outcome: 'ok', metrics: metrics(1.0), reason: null, best: null, threshold: 0 }).status).toBe('keep');
    expect(judge({ outcome: 'ok', metrics: metrics(0.99), reason: null, best: 1.0, threshold: 0 }).status).toBe('keep');
    expect(judge({ outcome: 'ok', metrics: metrics(1.0), reason: null, best: 1.0, threshold: 0 }).status).toBe('discard');
    const d = judge({ outcome: 'ok', metrics: metrics(0.995), reason: null, best: 1.0, threshold: 0.01 });
    expect(d).toEqual({ status: 'discard', reason: expect.stringMatching(/threshold 0.01/) });
    expect(judge({ outcome: 'timeout', metrics: null, reason: 'timed out', best: 1.0, threshold: 0 })).toEqual({ status: 'crash', reason: 'timed out' });
    expect(judge({ outcome: 'ok', metrics: metrics(Number.NaN), reason: null, best: 1.0, threshold: 0 }).status).toBe('crash');
  });
});
