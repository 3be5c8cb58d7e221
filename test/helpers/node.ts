import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { mutateProposer, type Proposer } from '../../src/agent/index.js';
import type { Dataset, Hardware, WorkerDevice } from '../../src/core/index.js';
import { runLoop, type LoopEvent } from '../../src/loop/index.js';
import { pythonTrainer } from '../../src/runner/index.js';
import { openStore } from '../../src/store/index.js';
import type { NoiseSettings } from '../../src/trust/index.js';
import { openWorkspace } from '../../src/workspace/index.js';
import { metricOf, PYTHON, TEST_CACHE } from './paths.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Everything a loop needs, in a fresh state folder removed after the test, over the given trainer folder. */
export async function node(opts: {
  trainerDir: string; budget: number; proposer?: Proposer; dataset?: Dataset;
  noise?: NoiseSettings; env?: Record<string, string>;
  /** Several experiments at once (default one worker); `hardware` skips the probe (e.g. a fake CUDA box). */
  workers?: WorkerDevice[]; hardware?: Hardware;
  /** LoopInit.plateau (default: the loop's). */
  plateau?: number;
}) {
  const state = await mkdtemp(join(tmpdir(), 'swarm-loop-'));
  cleanups.push(() => rm(state, { recursive: true, force: true }));
  const baseline = await readFile(join(opts.trainerDir, 'train.py'), 'utf8');
  const store = await openStore(join(state, 'db'));
  cleanups.push(() => store.close());
  const workspace = await openWorkspace({ dir: join(state, 'workspace.git'), baseline });
  const trainer = pythonTrainer({
    python: PYTHON, trainerDir: opts.trainerDir, cacheDir: TEST_CACHE, dataset: opts.dataset ?? 'sotu',
    budgetSeconds: opts.budget, timeoutSeconds: 120, metric: metricOf(opts.trainerDir), ...(opts.env ? { env: opts.env } : {}),
    ...(opts.hardware ? { hardware: opts.hardware } : {}),
  });
  const events: LoopEvent[] = [];
  const run = (maxExperiments: number, proposer: Proposer = opts.proposer ?? mutateProposer({ seed: 3 }), signal?: AbortSignal) =>
    runLoop({
      store, workspace, trainer, proposer, program: 'lower val_bpb', dataset: opts.dataset ?? 'sotu',
      budget: opts.budget, threshold: 0, runsDir: join(state, 'runs'), maxExperiments,
      onEvent: (e) => events.push(e), ...(opts.noise ? { noise: opts.noise } : {}),
      ...(opts.workers ? { workers: opts.workers } : {}), ...(signal ? { signal } : {}),
      ...(opts.plateau !== undefined ? { plateau: opts.plateau } : {}),
    });
  return { state, store, workspace, trainer, events, run, baseline };
}

