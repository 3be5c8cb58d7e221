#!/usr/bin/env node
// What measuring val_bpb in the harness costs per run, beside what train.py spends outside its
// training budget on its own (start-up, compilation, its in-process evaluation), in the same runs.
// `npm run build` first. Usage: node scripts/bench-harness.mjs [runs=3] [tokens=6144] [dataset=sotu]
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pythonTrainer } from '../dist/runner/index.js';
import { detectFence } from '../dist/sandbox/index.js';

const root = resolve(import.meta.dirname, '..');
const python = process.env.SWARM_PYTHON ?? join(root, '.venv', 'bin', 'python');
const trainerDir = join(root, 'trainer');
const runs = Number(process.argv[2] ?? 3);
const tokens = Number(process.argv[3] ?? 6144);
const dataset = process.argv[4] ?? 'sotu';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const state = await mkdtemp(join(tmpdir(), 'swarm-bench-harness-'));
try {
  const fence = await detectFence({ python });
  const trainer = pythonTrainer({
    python, trainerDir, cacheDir: join(state, 'cache'), dataset, budgetSeconds: 300, budgetMode: 'tokens',
    budgetTokens: tokens, timeoutSeconds: 900, fence, gpu: true,
  });
  const source = await readFile(join(trainerDir, 'train.py'), 'utf8');
  const rows = [];
  for (let i = 0; i < runs; i++) {
    const runDir = join(state, `run-${i}`);
    const r = await trainer.run({ source, runDir });
    if (r.outcome !== 'ok') throw new Error(`run ${i}: ${r.reason}`);
    const log = await readFile(r.logPath, 'utf8');
    const exportS = Number(/^export: ([\d.]+)s/m.exec(log)?.[1]);
    // the harness's own breakdown: the same evaluation, outside the fence, reporting its phases
    const direct = await execa(python, [join(trainerDir, 'evaluate.py'), join(runDir, 'export')], {
      env: { ...process.env, PYTHONPATH: trainerDir, SWARM_CACHE_DIR: join(state, 'cache'), SWARM_DATASET: dataset },
    });
    const phases = JSON.parse(direct.stdout.trim().split('\n').at(-1));
    rows.push({
      outside_training_in_train_py_s: r.metrics.total_seconds - r.metrics.training_seconds,
      export_s: exportS, harness_process_s: r.harnessSeconds, harness_load_s: phases.load_seconds,
      harness_eval_s: phases.eval_seconds, device: phases.device, val_bpb: r.metrics.val_bpb, printed: r.printedValBpb,
    });
  }
  const fig = (k) => Number(median(rows.map((r) => r[k])).toFixed(2));
  console.log(JSON.stringify({
    fence: fence.describe(), runs, tokens_per_run: tokens, device: rows[0].device,
    median: {
      outside_training_in_train_py_s: fig('outside_training_in_train_py_s'), export_s: fig('export_s'),
      harness_process_s: fig('harness_process_s'), harness_load_s: fig('harness_load_s'), harness_eval_s: fig('harness_eval_s'),
      harness_total_s: Number((fig('export_s') + fig('harness_process_s')).toFixed(2)),
    },
    runs_detail: rows,
  }, null, 2));
} finally {
  await rm(state, { recursive: true, force: true });
}
