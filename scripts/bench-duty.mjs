#!/usr/bin/env node
// Duty cycle (P1): the share of wall time a box spends inside training budgets while its proposer is an LLM that
// takes LATENCY seconds per reply (a local server speaking the Anthropic API, driven by the real SDK), with
// proposals drafted while runs train. The trainer is the surrogate, asleep for exactly the budget (no CPU).
// Usage: node scripts/bench-duty.mjs [--budget 300] [--runs 20] [--workers 1] [--latency 30] [--out FILE.json]
// Prints one line per finished run, then the figures as JSON. Run `npm run build` first.
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { claudeProposer } from '../dist/agent/index.js';
import { slowAnthropicServer } from './lib/llm-server.mjs';
import { benchNode } from './lib/nodes.mjs';
import { SURROGATE_DIR } from './lib/surrogate.mjs';

const { values: args } = parseArgs({
  options: {
    budget: { type: 'string', default: '300' }, runs: { type: 'string', default: '20' }, workers: { type: 'string', default: '1' },
    latency: { type: 'string', default: '30' }, out: { type: 'string' },
  },
});
const budget = Number(args.budget);
const runs = Number(args.runs);
const workers = Number(args.workers);
const latency = Number(args.latency);

const server = await slowAnthropicServer({ delayMs: latency * 1000 });
const node = await benchNode({
  name: 'duty', trainerDir: SURROGATE_DIR, budget, env: { SWARM_SURROGATE_SECONDS: String(budget) }, swarm: false,
  timeoutSeconds: budget * 2 + 60, workers: Array.from({ length: workers }, (_, worker) => ({ worker, gpu: null, threads: 1 })),
});
const proposer = claudeProposer({ model: 'bench-30s', apiKey: 'bench-key', baseURL: server.url, timeoutMs: (latency + 60) * 1000 });

const t0 = Date.now();
let training = 0;
let done = 0;
const stop = new AbortController();
const count = (seconds, what) => {
  training += seconds;
  done += 1;
  const wall = (Date.now() - t0) / 1000;
  console.log(`run ${done}/${runs} (${what}) at ${wall.toFixed(1)} s: duty so far ${(training / (workers * wall) * 100).toFixed(2)} %`);
  if (done >= runs) stop.abort();
};
await node.run({
  proposer, maxExperiments: null, signal: stop.signal,
  onEvent: (e) => {
    if (e.type === 'finish' && e.record.metrics) count(e.record.metrics.training_seconds, `#${e.record.seq} ${e.record.status}`);
    // The surrogate trains for exactly the budget; a noise run's summary is not in its event.
    if (e.type === 'ran' && e.outcome === 'ok') count(budget, e.label);
  },
});
const wall = (Date.now() - t0) / 1000;
const records = await node.store.list();
const result = {
  date: new Date().toISOString(), machine: `${cpus().length}× ${cpus()[0]?.model}`, loadavg: loadavg().map((l) => +l.toFixed(2)),
  budgetSeconds: budget, runs: done, workers, latencySeconds: latency, wallSeconds: +wall.toFixed(1), trainingSeconds: +training.toFixed(1),
  duty: +(training / (workers * wall)).toFixed(4), idealDuty: +Math.min(1, budget / latency).toFixed(4),
  llmRequests: server.stats.requests, llmMaxConcurrent: server.stats.maxConcurrent,
  invalid: records.filter((r) => r.status === 'invalid').length,
  invalidReasons: records.filter((r) => r.status === 'invalid').map((r) => r.reason.split('\n')[0].slice(0, 160)), skips: records.filter((r) => r.status === 'skip').length,
};
await node.close();
await server.close();
if (args.out) await writeFile(args.out, JSON.stringify(result, null, 1));
console.log(JSON.stringify(result, null, 2));
