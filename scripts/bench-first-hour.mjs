#!/usr/bin/env node
// The first minutes of a newcomer: `swarm join` on the embedded defaults with a fresh state folder
// and a fresh data cache (the data and tokenizer are built as on a new machine), timed from the
// command to each milestone: baseline judged, noise floor measured, first judged experiment, and
// the pace of the experiments after it. The baseline figure beside it: the training time of one
// run as train.py reports it, in the same session.
// `npm run build` first. Usage: node scripts/bench-first-hour.mjs [experiments=5]
import { execa } from 'execa';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const experiments = Number(process.argv[2] ?? 5);
const dir = await mkdtemp(join(tmpdir(), 'swarm-first-hour-'));
const t0 = Date.now();
const at = () => Number(((Date.now() - t0) / 1000).toFixed(1));
const marks = { baseline: null, noise: null, first: null, experiments: [] };
try {
  const node = execa('node', [join(root, 'dist', 'cli', 'main.js'), 'join', '--state', join(dir, 'state'), '--cache', join(dir, 'cache'),
    '--listen', '/ip4/127.0.0.1/tcp/0', '--dashboard', 'off', '--max-experiments', String(experiments + 1)], { all: true, reject: false });
  let budget = null;
  node.all.on('data', (chunk) => {
    for (const line of chunk.toString().split('\n')) {
      budget ??= /program \w+ \(([^)]+)\)/.exec(line)?.[1] ?? null;
      if (/#1 KEEP/.test(line)) marks.baseline = at();
      if (/noise floor: σ/.test(line)) marks.noise = at();
      const judged = /#(\d+) (KEEP|DISCARD|CRASH)/.exec(line);
      if (judged && judged[1] !== '1') {
        marks.first ??= at();
        marks.experiments.push(at());
      }
    }
  });
  const r = await node;
  if (r.exitCode !== 0) throw new Error(`join failed:\n${r.all}`);
  const runs = join(dir, 'state', 'runs');
  const train = [];
  for (const f of (await readdir(runs)).sort()) {
    const log = await readFile(join(runs, f, 'run.log'), 'utf8').catch(() => '');
    const s = Number(/^training_seconds:\s+([\d.]+)/m.exec(log)?.[1]);
    if (Number.isFinite(s)) train.push(s);
  }
  const gaps = marks.experiments.slice(1).map((t, i) => t - marks.experiments[i]);
  console.log(JSON.stringify({
    program: budget, seconds_from_join: { baseline_judged: marks.baseline, noise_floor_measured: marks.noise, first_experiment_judged: marks.first },
    seconds_between_experiments: { median: gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? null, all: gaps.map((g) => Number(g.toFixed(1))) },
    baseline_training_seconds_per_run_median: train.sort((a, b) => a - b)[Math.floor(train.length / 2)] ?? null,
  }, null, 2));
} finally {
  await rm(dir, { recursive: true, force: true });
}
