#!/usr/bin/env node
// Benchmarks of the node's own overhead, apart from training: what each experiment costs the box
// beyond the GPU's time. Run `npm run build` first; figures go to docs/benchmarks.md.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mutateProposer } from '../dist/agent/index.js';
import { runLoop } from '../dist/loop/index.js';
import { pythonTrainer } from '../dist/runner/index.js';
import { openStore } from '../dist/store/index.js';
import { openWorkspace } from '../dist/workspace/index.js';

const root = resolve(import.meta.dirname, '..');
const python = process.env.SWARM_PYTHON ?? join(root, '.venv', 'bin', 'python');
const stub = join(root, 'test', 'fixtures', 'stub-trainer');
const experiments = Number(process.argv[2] ?? 30);

const state = await mkdtemp(join(tmpdir(), 'swarm-bench-'));
try {
  const store = await openStore(join(state, 'db'));
  const workspace = await openWorkspace({ dir: join(state, 'ws.git'), baseline: await readFile(join(stub, 'train.py'), 'utf8') });
  const trainer = pythonTrainer({ python, trainerDir: stub, cacheDir: join(state, 'cache'), dataset: 'sotu', budgetSeconds: 1, timeoutSeconds: 60 });

  // The stub trainer alone, to subtract Python's start-up from the loop's per-experiment time.
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) await trainer.run({ source: await readFile(join(stub, 'train.py'), 'utf8'), runDir: join(state, 'solo', String(i)) });
  const soloMs = (performance.now() - t0) / 5;

  const rss0 = process.memoryUsage().rss;
  const t1 = performance.now();
  await runLoop({
    store, workspace, trainer, proposer: mutateProposer({ seed: 1 }), program: 'bench', dataset: 'sotu',
    budget: 1, threshold: 0, runsDir: join(state, 'runs'), maxExperiments: experiments,
  });
  const loopMs = (performance.now() - t1) / experiments;
  const rss1 = process.memoryUsage().rss;

  const t2 = performance.now();
  const records = await store.list();
  const listMs = performance.now() - t2;
  await store.close();

  console.log(JSON.stringify({
    experiments,
    stub_run_ms: Math.round(soloMs),
    loop_ms_per_experiment: Math.round(loopMs),
    node_overhead_ms_per_experiment: Math.round(loopMs - soloMs),
    store_list_ms: Number(listMs.toFixed(1)),
    records: records.length,
    rss_growth_mb: Number(((rss1 - rss0) / 2 ** 20).toFixed(1)),
  }, null, 2));
} finally {
  await rm(state, { recursive: true, force: true });
}
