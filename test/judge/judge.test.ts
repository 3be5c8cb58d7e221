import { describe, expect, it } from 'vitest';
import { judge } from '../../src/judge/index.js';

describe('judge', () => {
  const metrics = (val_bpb: number) => ({ val_bpb, training_seconds: 1, total_seconds: 1, peak_vram_mb: 0, mfu_percent: 0, total_tokens_M: 0, num_steps: 1, num_params_M: 1, depth: 1 });
  it('keeps only clean runs that beat the best by more than the threshold', () => {
    expect(judge({ outcome: 'ok', metrics: metrics(1.0), reason: null, best: null, threshold: 0 }).status).toBe('keep');
    expect(judge({ outcome: 'ok', metrics: metrics(0.99), reason: null, best: 1.0, threshold: 0 }).status).toBe('keep');
    expect(judge({ outcome: 'ok', metrics: metrics(1.0), reason: null, best: 1.0, threshold: 0 }).status).toBe('discard');
    const d = judge({ outcome: 'ok', metrics: metrics(0.995), reason: null, best: 1.0, threshold: 0.01 });
    expect(d).toEqual({ status: 'discard', reason: expect.stringMatching(/by more than 0.010000/), insideNoise: false });
    expect(judge({ outcome: 'timeout', metrics: null, reason: 'timed out', best: 1.0, threshold: 0 })).toEqual({ status: 'crash', reason: 'timed out', insideNoise: false });
    expect(judge({ outcome: 'ok', metrics: metrics(Number.NaN), reason: null, best: 1.0, threshold: 0 }).status).toBe('crash');
  });

  it('calls a win no larger than k·σ a win inside the noise, and keeps one beyond it', () => {
    const noise = { sigma: 0.01, k: 2 };
    const lucky = judge({ outcome: 'ok', metrics: metrics(0.985), reason: null, best: 1.0, threshold: 0, noise });
    expect(lucky.status).toBe('discard');
    expect(lucky.insideNoise).toBe(true);
    expect(lucky.reason).toMatch(/inside the noise.*by 0\.015000.*2·σ = 0\.020000/);
    expect(judge({ outcome: 'ok', metrics: metrics(0.975), reason: null, best: 1.0, threshold: 0, noise })).toMatchObject({ status: 'keep', insideNoise: false });
    // A loss is a plain discard, not a win inside the noise.
    expect(judge({ outcome: 'ok', metrics: metrics(1.001), reason: null, best: 1.0, threshold: 0, noise }).insideNoise).toBe(false);
    // A fixed threshold larger than k·σ still rules.
    expect(judge({ outcome: 'ok', metrics: metrics(0.97), reason: null, best: 1.0, threshold: 0.05, noise })).toMatchObject({ status: 'discard', insideNoise: false });
  });
});
