import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pythonTrainer } from '../../src/runner/index.js';
import { noFence, type Fence, type FenceSpec } from '../../src/sandbox/index.js';
import { PYTHON, STUB_TRAINER, TEST_CACHE } from '../helpers/paths.js';
import { tmpDir } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A fence that runs like noFence but keeps every spec it was given. */
function recordingFence(specs: FenceSpec[]): Fence {
  const real = noFence('test');
  return { layers: real.layers, complete: real.complete, describe: () => real.describe(), enter: (cmd, spec, onLimit) => {
    specs.push(spec);
    return real.enter(cmd, spec, onLimit);
  } };
}

const SOURCE = `import json, os
from prepare import summary
json.dump({k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}, open("env.json", "w"))
summary(1.5, 4)
`;

describe('a run on a worker’s device', () => {
  it('sees only its GPU, in training and in the harness’s evaluation, and the fence binds only its device node', async () => {
    const specs: FenceSpec[] = [];
    const trainer = pythonTrainer({
      python: PYTHON, trainerDir: STUB_TRAINER, cacheDir: TEST_CACHE, dataset: 'sotu', budgetSeconds: 1, timeoutSeconds: 60,
      fence: recordingFence(specs), gpu: true,
    });
    const runDir = await tmpDir('device');
    dirs.push(runDir);
    const r = await trainer.run({ source: SOURCE, runDir, device: { worker: 1, gpu: { index: 1, minor: 5, uuid: 'GPU-0a1b' }, threads: null } });
    expect(r.outcome, r.reason ?? '').toBe('ok');
    expect(JSON.parse(await readFile(path.join(runDir, 'env.json'), 'utf8'))).toEqual({
      CUDA_VISIBLE_DEVICES: 'GPU-0a1b', CUDA_DEVICE_ORDER: 'PCI_BUS_ID', OMP_NUM_THREADS: null, MKL_NUM_THREADS: null,
    });
    expect(specs.map((s) => [s.gpus, s.env.CUDA_VISIBLE_DEVICES])).toEqual([[[5], 'GPU-0a1b'], [[5], 'GPU-0a1b']]);
  });

  it('on a CPU gets its share of the threads, whatever the node’s own environment says', async () => {
    const specs: FenceSpec[] = [];
    const trainer = pythonTrainer({
      python: PYTHON, trainerDir: STUB_TRAINER, cacheDir: TEST_CACHE, dataset: 'sotu', budgetSeconds: 1, timeoutSeconds: 60,
      fence: recordingFence(specs), env: { OMP_NUM_THREADS: '64' },
    });
    const runDir = await tmpDir('device');
    dirs.push(runDir);
    const r = await trainer.run({ source: SOURCE, runDir, device: { worker: 0, gpu: null, threads: 3 } });
    expect(r.outcome, r.reason ?? '').toBe('ok');
    expect(JSON.parse(await readFile(path.join(runDir, 'env.json'), 'utf8'))).toEqual({
      CUDA_VISIBLE_DEVICES: null, CUDA_DEVICE_ORDER: null, OMP_NUM_THREADS: '3', MKL_NUM_THREADS: '3',
    });
    expect(specs.every((s) => s.gpus === undefined)).toBe(true);
  });
});
