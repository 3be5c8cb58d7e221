import { readFile } from 'node:fs/promises';
import { join as joinPath } from 'node:path';
import { createProposer, type ProposerConfig } from '../agent/index.js';
import { loadConfig, repoRoot, type NodeConfig, type ConfigSources } from '../config/index.js';
import { serveControl } from '../control/index.js';
import { ConfigError, hardwareClass, type Logger } from '../core/index.js';
import { runLoop } from '../loop/index.js';
import { createSwarmNet, parseSwarmKey, type SwarmNet } from '../p2p/index.js';
import { describeProgram } from '../program/index.js';
import type { Fence } from '../sandbox/index.js';
import { openStore } from '../store/index.js';
import { swarmLink } from '../swarm/index.js';
import { openWorkspace } from '../workspace/index.js';
import { stateLayout } from './layout.js';
import { nodeTrainer } from './trainer.js';
import { findTarget, verifyReport } from './verify.js';
import { terminal } from './terminal.js';

/** `swarm join`: runs the research loop with the swarm until Ctrl-C or --max-experiments. */
export async function join(sources: ConfigSources): Promise<void> {
  const config = loadConfig(sources);
  const ui = terminal(budgetLabel(config));
  const program = await readText(config.program, 'program.md (the instructions to the agent)');
  const baseline = await readText(joinPath(config.trainer, 'train.py'), 'the baseline train.py');
  const bootstrap = [...(await readBootstrap(config.bootstrapFile)), ...config.bootstrap];
  const swarmKey = config.swarmKey === null ? undefined : parseSwarmKey(await readBytes(config.swarmKey, 'the swarm key'), config.swarmKey);
  const layout = stateLayout(config.state);
  const research = await describeProgram({
    trainerDir: config.trainer, programPath: config.program, dataset: config.dataset, budget: config.budget,
    budgetMode: config.budgetMode, budgetTokens: config.budgetTokens,
    nodeModules: joinPath(repoRoot(), 'node_modules'),
  });

  const store = await openStore(layout.db);
  const startedAt = new Date().toISOString();
  let net: SwarmNet | null = null;
  let verifier: ((ref: string) => Promise<unknown>) | null = null;
  const control = await serveControl(config.state, {
    records: () => store.list(),
    shared: () => store.shared(),
    noise: () => store.noiseFloors(),
    verify: (ref) => (verifier ? verifier(ref) : Promise.reject(new Error('the node is still starting; try again in a moment'))),
    status: () => ({
      pid: process.pid, startedAt, current: ui.current(),
      swarm: net && {
        peerId: net.peerId, program: research.id, addresses: net.addresses(),
        peers: net.peers().map((p) => ({ id: p.id, connected: p.connected })), dropped: net.stats().dropped,
      },
    }),
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
    const { trainer, fence } = await nodeTrainer(config);
    ui.log.info(fence.describe());
    const hardware = await trainer.hardware();
    const proposer = createProposer(proposerConfig(config));
    const link = swarmLink({
      crossClass: config.budgetMode === 'tokens',
      store, workspace, log: ui.log, hardware, hardwareClass: hardwareClass(hardware), claimSeconds: config.timeout, threshold: config.threshold,
      refusePeerCode: peerCodePolicy(fence, config, ui.log),
      policy: config.runPolicy, allowlist: config.allowlist, replicas: config.replicas, noiseK: config.noiseK,
    });
    net = await createSwarmNet({
      identityFile: layout.identity, programId: research.id, listen: config.listen, announce: config.announce,
      bootstrap, mdns: config.mdns, source: link.source, log: ui.log, ...(swarmKey ? { swarmKey } : {}),
    });
    link.attach(net);
    verifier = async (ref) => {
      const target = await findTarget(ref, {
        records: await store.list(), shared: await link.records(), self: net?.peerId ?? null,
        object: (hash) => store.getObject(hash), commitSource: (commit) => workspace.source(commit),
      });
      ui.log.info(`swarm verify: re-running ${target.label} after the run in flight`);
      const result = await link.verifyNow({ peer: target.peer ?? '', experiment: target.experiment, hash: target.hash, claimed: target.claimed, source: target.source });
      return verifyReport(target, result, await store.noiseFloors(), config.noiseK);
    };
    ui.log.info(`swarm node ${net.peerId}: program ${research.id} (${config.dataset}, ${budgetLabel(config)}), proposer ${proposer.name}, state ${config.state}`);
    const dial = net.addresses().find((a) => !a.includes('/ip4/127.')) ?? net.addresses()[0];
    if (dial) ui.log.info(`others join with: swarm join --bootstrap ${dial}`);

    const report = await runLoop({
      store, workspace, trainer, proposer, program,
      dataset: config.dataset, budget: config.budget, threshold: config.threshold,
      ...(config.budgetMode === 'tokens' ? { budgetTokens: config.budgetTokens } : {}),
      runsDir: layout.runs, maxExperiments: config.maxExperiments,
      noise: { runs: config.noiseRuns, every: config.noiseEvery, k: config.noiseK },
      log: ui.log, onEvent: ui.onEvent, signal: stop.signal, swarm: link.hooks,
    });
    await link.settled();
    const best = report.best?.metrics ? `best #${report.best.seq} val_bpb ${report.best.metrics.val_bpb.toFixed(6)}` : 'no best yet';
    ui.log.info(`stopped after ${report.created} experiment(s) in this session; ${best}`);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    ui.close();
    await net?.stop();
    await control.close();
    await store.close();
  }
}

/** The budget in its mode, for the start line: "300 s" or "2M tokens". */
function budgetLabel(config: NodeConfig): string {
  if (config.budgetMode === 'time') return `${config.budget} s`;
  const n = config.budgetTokens;
  return n % 1e6 === 0 ? `${n / 1e6}M tokens` : n % 1e3 === 0 ? `${n / 1e3}k tokens` : `${n} tokens`;
}

/** Peers' code runs only inside a complete fence, unless the user explicitly allows otherwise. */
function peerCodePolicy(fence: Fence, config: NodeConfig, log: Logger): string | null {
  if (fence.complete) return null;
  if (config.allowUnsandboxed) {
    log.warn(`${fence.describe()}; running peers' patches anyway because of --allow-unsandboxed`);
    return null;
  }
  log.warn(`${fence.describe()}; peers' patches will not run here. Fix the missing layers, or pass --allow-unsandboxed`);
  return 'not run: the fence on this box is incomplete and --allow-unsandboxed was not given';
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

async function readBootstrap(path: string): Promise<string[]> {
  const text = await readText(path, 'the bootstrap peers file', true);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`the bootstrap peers file ${path} is not valid JSON: ${(err as Error).message}`, {
      hint: 'it must hold a JSON array of multiaddrs, e.g. ["/ip4/10.0.0.2/tcp/4001/p2p/12D3Koo..."], or []',
    });
  }
  if (!Array.isArray(value) || !value.every((a) => typeof a === 'string' && a.startsWith('/'))) {
    throw new ConfigError(`the bootstrap peers file ${path} must hold a JSON array of multiaddr strings`, {
      hint: 'e.g. ["/ip4/10.0.0.2/tcp/4001/p2p/12D3Koo..."], or [] for none',
    });
  }
  return value as string[];
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${what} at ${path}: ${(err as Error).message}`, {
      hint: 'create one with `swarm key generate --out FILE` and give every invited box a copy', cause: err,
    });
  }
}

async function readText(path: string, what: string, emptyOk = false): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    if (!emptyOk && text.trim() === '') throw new ConfigError(`${what} at ${path} is empty`);
    return text;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read ${what} at ${path}: ${(err as Error).message}`, { cause: err });
  }
}
