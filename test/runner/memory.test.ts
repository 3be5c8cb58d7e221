import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { runLoop } from '../../src/loop/index.js';
import { pythonTrainer } from '../../src/runner/index.js';
import { watchTreeMemory } from '../../src/runner/memory.js';
import { exportTsv, openStore } from '../../src/store/index.js';
import { openWorkspace } from '../../src/workspace/index.js';
import { runFenced } from '../../src/runner/process.js';
import { detectFence, noFence, type Fence } from '../../src/sandbox/index.js';
import { metricOf, PYTHON, STUB_TRAINER, TEST_CACHE } from '../helpers/paths.js';

// Holds 200 MB for a second in a grandchild (sh → python), so only a walk of the whole tree sees it.
const HOLD = `import time; x = bytearray(200 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); time.sleep(1.2)`;

describe('peak memory of a run, measured by the node', () => {
  it('polls the resident memory of the whole process tree', async () => {
    const sub = execa('sh', ['-c', `"${PYTHON}" -c "${HOLD}"; true`]);
    const watch = watchTreeMemory(sub.pid!, 100);
    await sub;
    const mb = watch.stop();
    expect(mb).toBeGreaterThan(190);
    expect(mb).toBeLessThan(1024);
  });

  it('reaches ProcessEnd through runFenced: polled without a fence, the cgroup\'s peak in the box\'s fence', async () => {
    const fence = await detectFence({ python: PYTHON });
    expect(await peakOf(noFence('test'))).toBeGreaterThan(190);
    // Where the fence has a cgroup its high-water mark counts (bwrap and the interpreter's pages too).
    if (fence.layers.cgroup === null) expect(await peakOf(fence)).toBeGreaterThan(190);
  });
});

describe('a CPU run\'s record', () => {
  it('carries the peak memory the node measured, and the TSV shows it instead of the crash marker', async () => {
    const state = await mkdtemp(join(tmpdir(), 'swarm-mem-loop-'));
    const store = await openStore(join(state, 'db'));
    try {
      const workspace = await openWorkspace({ dir: join(state, 'ws.git'), baseline: await readFile(join(STUB_TRAINER, 'train.py'), 'utf8') });
      const trainer = pythonTrainer({ python: PYTHON, trainerDir: STUB_TRAINER, cacheDir: TEST_CACHE, dataset: 'sotu', budgetSeconds: 1, timeoutSeconds: 120, metric: metricOf(STUB_TRAINER) });
      const proposer = { name: 'none', propose: () => Promise.reject(new Error('only the baseline runs')) };
      await runLoop({ store, workspace, trainer, proposer, program: '', dataset: 'sotu', budget: 1, threshold: 0, runsDir: join(state, 'runs'), maxExperiments: 1 });
      const [baseline] = await store.list();
      expect(baseline?.status).toBe('keep');
      expect(baseline?.metrics?.peak_vram_mb).toBe(0);
      // The stub reports no VRAM and ends in a fraction of a second: the first, quick polls still see it.
      expect(baseline?.peakMemoryMb).toBeGreaterThan(0);
      const mem = exportTsv([baseline!]).split('\n')[1]!.split('\t')[2];
      expect(mem).toBe((baseline!.peakMemoryMb! / 1024).toFixed(1));
    } finally {
      await store.close();
      await rm(state, { recursive: true, force: true });
    }
  }, 120_000);
});

async function peakOf(fence: Fence): Promise<number | null> {
  const runDir = await mkdtemp(join(tmpdir(), 'swarm-mem-'));
  try {
    const end = await runFenced({
        cmd: [PYTHON, '-c', HOLD], fence, timeoutSeconds: 60, killGraceSeconds: 1, onOutput: () => {},
        spec: { runDir, binds: [], env: {}, python: PYTHON, gpu: false, limits: { memoryBytes: 4 * 1024 ** 3, processes: 64, cpus: 0, diskBytes: 1024 ** 3 } },
      });
    expect(end.exitCode).toBe(0);
    return end.peakMemoryMb;
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}
