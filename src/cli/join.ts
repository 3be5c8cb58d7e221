import { readFile } from 'node:fs/promises';
import { join as joinPath } from 'node:path';
import { createProposer, type ProposerConfig } from '../agent/index.js';
import { loadConfig, type NodeConfig, type ConfigSources } from '../config/index.js';
import { serveControl } from '../control/index.js';
import { ConfigError } from '../core/index.js';
import { runLoop } from '../loop/index.js';
import { pythonTrainer } from '../runner/index.js';
import { openStore } from '../store/index.js';
import { openWorkspace } from '../workspace/index.js';
import { stateLayout } from './layout.js';
import { terminal } from './terminal.js';

/** `swarm join`: runs the research loop until Ctrl-C or --max-experiments. */
export async function join(sources: ConfigSources): Promise<void> {
  const config = loadConfig(sources);
  const ui = terminal();
  const program = await readText(config.program, 'program.md (the instructions to the agent)');
  const baseline = await readText(joinPath(config.trainer, 'train.py'), 'the baseline train.py');
  const layout = stateLayout(config.state);

  const store = await openStore(layout.db);
  const startedAt = new Date().toISOString();
  const control = await serveControl(config.state, {
    records: () => store.list(),
    status: () => ({ pid: process.pid, startedAt, current: ui.current() }),
  });
  const stop = new AbortController();
  const onSignal = (name: string) => () => {
    if (stop.signal.aborted) {
      ui.log.warn('stopping now');
      process.exit(130);
    }
    ui.log.info(`${name}: stopping; the run in flight resumes on the next join (again to quit at once)`);
    stop.abort();
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  try {
    const workspace = await openWorkspace({ dir: layout.workspace, baseline });
    const trainer = pythonTrainer({
      python: config.python, trainerDir: config.trainer, cacheDir: config.cache,
      dataset: config.dataset, budgetSeconds: config.budget, timeoutSeconds: config.timeout,
    });
    const proposer = createProposer(proposerConfig(config));
    ui.log.info(`swarm node: state ${config.state}, dataset ${config.dataset}, budget ${config.budget} s, proposer ${proposer.name}`);
    const report = await runLoop({
      store, workspace, trainer, proposer, program,
      dataset: config.dataset, budget: config.budget, threshold: config.threshold,
      runsDir: layout.runs, maxExperiments: config.maxExperiments,
      log: ui.log, onEvent: ui.onEvent, signal: stop.signal,
    });
    const best = report.best?.metrics ? `best #${report.best.seq} val_bpb ${report.best.metrics.val_bpb.toFixed(6)}` : 'no best yet';
    ui.log.info(`stopped after ${report.created} experiment(s) in this session; ${best}`);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    ui.close();
    await control.close();
    await store.close();
  }
}

function proposerConfig(config: NodeConfig): ProposerConfig {
  const llm = { ...(config.baseUrl ? { baseURL: config.baseUrl } : {}) };
  switch (config.proposer) {
    case 'mutate':
      return { kind: 'mutate', seed: config.seed };
    case 'claude':
      return { kind: 'claude', model: config.model ?? 'claude-sonnet-4-5', ...llm };
    case 'openai':
      return { kind: 'openai', model: config.model!, ...llm };
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    if (text.trim() === '') throw new ConfigError(`${what} at ${path} is empty`);
    return text;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read ${what} at ${path}: ${(err as Error).message}`, { cause: err });
  }
}
