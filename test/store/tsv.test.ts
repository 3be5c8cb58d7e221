import { describe, expect, it } from 'vitest';
import { exportTsv } from '../../src/store/index.js';
import { makeRecord } from '../helpers/records.js';

const cells = (tsv: string) => tsv.trimEnd().split('\n').slice(1).map((l) => l.split('\t'));

describe('exportTsv', () => {
  it('shows the node-measured peak memory of a CPU run (no VRAM), 0.0 only for a crash', () => {
    const cpu = { val_bpb: 1.5, training_seconds: 3, total_seconds: 9, peak_vram_mb: 0, mfu_percent: 0, total_tokens_M: 0.1, num_steps: 5, num_params_M: 4, depth: 4 };
    const rows = cells(exportTsv([
      makeRecord({ seq: 1, status: 'keep', commit: 'a'.repeat(40), metrics: cpu, peakMemoryMb: 1536.4 }),
      makeRecord({ seq: 2, status: 'discard', commit: 'b'.repeat(40), metrics: { ...cpu, peak_vram_mb: 45060.2 }, peakMemoryMb: 900 }),
      makeRecord({ seq: 3, status: 'crash', commit: 'c'.repeat(40), metrics: null, outcome: 'crash', peakMemoryMb: 2048 }),
      makeRecord({ seq: 4, status: 'discard', commit: 'd'.repeat(40), metrics: cpu }),
    ]));
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['aaaaaaa', '1.500000', '1.5'],
      // VRAM reported by the GPU run wins over the node's measure of host memory
      ['bbbbbbb', '1.500000', '44.0'],
      ['ccccccc', '0.000000', '0.0'],
      // recorded before the node measured memory: nothing better to show
      ['ddddddd', '1.500000', '0.0'],
    ]);
  });

  it('writes an imported row\'s commit cell as it came, `baseline` whole', () => {
    const rows = cells(exportTsv([
      makeRecord({ seq: 1, status: 'keep', commit: 'e'.repeat(40), hypothesis: 'baseline', imported: { commit: 'baseline', line: 2 } }),
      makeRecord({ seq: 2, status: 'discard', commit: null, hash: null, imported: { commit: 'c3d4e5f', line: 3 } }),
    ]));
    expect(rows.map((r) => r[0])).toEqual(['baseline', 'c3d4e5f']);
  });
});
