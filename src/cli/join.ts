import { createHash } from 'node:crypto';
import { createProposer, type ProposerConfig } from '../agent/index.js';
import { loadConfig, type NodeConfig, type ConfigSources } from '../config/index.js';
import type { LiveStatus } from '../control/index.js';
import { deviceLabel, hardwareClass, hardwareLabel, type ExperimentRecord, type Logger } from '../core/index.js';
import { runLoop } from '../loop/index.js';
import { createSwarmNet, parseSwarmKey, type ReachOptions, type SwarmNet } from '../p2p/index.js';
import { bindState, budgetLabel, programLabel, type Program } from '../program/index.js';
import { describeLayout } from '../runner/index.js';
import type { Fence } from '../sandbox/index.js';
import { openStore } from '../store/index.js';
import { swarmLink } from '../swarm/index.js';
import { openWorkspace } from '../workspace/index.js';
import { nodeDisplay, stopOnSignals } from './display.js';
import { readBootstrap, readBytes, readText } from './files.js';
import { stateLayout } from './layout.js';
import { nodeTrainer, researchProgram } from './trainer.js';
import { findTarget, verifyReport } from './verify.js';
import { serveWatchers } from './watchers.js';

/** `swarm join`: runs the research loop with the swarm until Ctrl-C or --max-experiments. */
export async function join(sources: ConfigSources): Promise<void> {
  const given = loadConfig(sources);
  // A coding agent that is not installed is a setup problem: say so before the box is probed and the swarm joined.
  const agent = given.proposer === 'agent' ? createProposer(proposerConfig(given, '')) : null;
  const program = await readText(given.program, 'program.md (the instructions to the agent)');
  const bootstrap = [...(await readBootstrap(given.bootstrapFile)), ...given.bootstrap];
  const swarmKey = given.swarmKey === null ? undefined : parseSwarmKey(await readBytes(given.swarmKey, 'the swarm key'), given.swarmKey);
  const layout = stateLayout(given.state);
  const node = await nodeTrainer(given);
  const { trainer, fence, hardware, workers, config } = node;
  const baseline = await readText(node.baseline, 'the baseline train.py');
  const research = await researchProgram(config, node);

  const store = await openStore(layout.db);
  const display = nodeDisplay({ budget: budgetLabel(research), devices: workers.map((w) => (w.gpu ? `cuda:${w.gpu.index}` : hardware.device)) });
  const { log } = display;
  const stop = stopOnSignals(log);
  const startedAt = new Date().toISOString();
  let net: SwarmNet | null = null;
  let verifier: ((ref: string) => Promise<unknown>) | null = null;
  let watchers: { close(): Promise<void> } | null = null;

  try {
    await bindState(config.state, research, lastRun(await store.list()));
    watchers = await serveWatchers({
      config, store, log, subscribe: display.subscribe,
      verify: (ref) => (verifier ? verifier(ref) : Promise.reject(new Error('the node is still starting; try again in a moment'))),
      status: (): LiveStatus => ({
        pid: process.pid, startedAt, current: display.current(), workers: display.workers(), next: display.next(), nextIn: display.nextIn(),
        swarm: net && {
          peerId: net.peerId, program: research.id, addresses: net.addresses(),
          peers: net.peers().map((p) => ({ id: p.id, connected: p.connected })), dropped: net.stats().dropped,
        },
      }),
    });
    const workspace = await openWorkspace({ dir: layout.workspace, baseline });
    log.info(fence.describe());
    log.info(describeLayout(node.layout, node.baseline));
    log.info(`hardware class ${hardwareLabel(hardware)}; ${workers.length} worker${workers.length === 1 ? '' : 's'}: ${workers.map(deviceLabel).join('; ')}`);
    const link = swarmLink({
      crossClass: config.budgetMode === 'tokens',
      store, workspace, log, hardware, hardwareClass: hardwareClass(hardware), claimSeconds: config.timeout, threshold: config.threshold,
      refusePeerCode: peerCodePolicy(fence, config, log),
      policy: config.runPolicy, allowlist: config.allowlist, replicas: config.replicas, noiseK: config.noiseK,
    });
    net = await createSwarmNet({
      identityFile: layout.identity, programId: research.id, listen: config.listen, announce: config.announce,
      bootstrap, mdns: config.mdns, source: link.source, log, ...(swarmKey ? { swarmKey } : {}),
      reach: reachOptions(config),
    });
    link.attach(net);
    const proposer = agent ?? createProposer(proposerConfig(config, net.peerId));
    verifier = async (ref) => {
      const target = await findTarget(ref, {
        records: await store.list(), shared: await link.records(), self: net?.peerId ?? null,
        object: (hash) => store.getObject(hash), commitSource: (commit) => workspace.source(commit),
      });
      log.info(`swarm verify: re-running ${target.label} after the run in flight`);
      const result = await link.verifyNow({ peer: target.peer ?? '', experiment: target.experiment, hash: target.hash, claimed: target.claimed, source: target.source });
      return verifyReport(target, result, await store.noiseFloors(), config.noiseK);
    };
    log.info(`swarm node ${net.peerId}: program ${research.id} (${programLabel(research)}), proposer ${proposer.name}, state ${config.state}`);
    const dial = net.addresses().find((a) => !a.includes('/ip4/127.')) ?? net.addresses()[0];
    if (dial) log.info(`others join with (in a swarm checkout): npx swarm join --bootstrap ${dial}`);

    const report = await runLoop({
      store, workspace, trainer, proposer, program,
      dataset: config.dataset, budget: config.budget, threshold: config.threshold,
      ...(config.budgetMode === 'tokens' ? { budgetTokens: config.budgetTokens } : {}),
      runsDir: layout.runs, maxExperiments: config.maxExperiments,
      noise: { runs: config.noiseRuns, every: config.noiseEvery, k: config.noiseK },
      log, onEvent: display.onEvent, signal: stop.signal, swarm: link.hooks, workers, plateau: config.plateau,
    });
    await link.settled();
    const best = report.best?.metrics ? `best #${report.best.seq} val_bpb ${report.best.metrics.val_bpb.toFixed(6)}` : 'no best yet';
    log.info(`stopped after ${report.created} experiment(s) in this session; ${best}`);
  } finally {
    stop.dispose();
    display.close();
    await net?.stop();
    await watchers?.close();
    await store.close();
  }
}

/** The NAT-traversal settings of `swarm join` (docs/internet.md). */
export function reachOptions(config: NodeConfig): ReachOptions {
  return {
    relayServer: config.relayServer && { slots: config.relaySlots, durationSeconds: config.relayDuration, bytes: config.relayBytes },
    ...(config.relayReserve === 'auto' ? {} : { relayReserve: config.relayReserve === 'on' }),
    upnp: config.upnp, dht: config.dht, forwarded: config.forwarded, maxConnections: config.maxConnections,
  };
}

/** The dataset and budget of the folder's last run, for a folder from before state folders were stamped with their program. */
function lastRun(records: readonly ExperimentRecord[]): Pick<Program, 'dataset' | 'budgetMode' | 'budget'> | null {
  const r = records.filter((x) => !x.imported).at(-1); // imported rows were another program's runs
  if (!r) return null;
  return r.budgetTokens !== undefined
    ? { dataset: r.dataset, budgetMode: 'tokens', budget: r.budgetTokens }
    : { dataset: r.dataset, budgetMode: 'time', budget: r.budgetSeconds };
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

function proposerConfig(config: NodeConfig, peerId: string): ProposerConfig {
  const llm = { ...(config.baseUrl ? { baseURL: config.baseUrl } : {}) };
  switch (config.proposer) {
    case 'mutate':
      return { kind: 'mutate', seed: config.seed ?? seedOf(peerId) };
    case 'claude':
      return { kind: 'claude', model: config.model ?? 'claude-sonnet-4-5', ...llm };
    case 'openai':
      return { kind: 'openai', model: config.model!, ...llm };
    case 'agent':
      return {
        kind: 'agent', preset: config.agent, command: config.agentCmd, timeoutSeconds: config.agentTimeout, maxCostUsd: config.agentMaxCost,
        ...(config.model ? { model: config.model } : {}),
      };
  }
}

/** A mutator seed of its own for every node (so the nodes of a swarm explore differently), stable across restarts. */
export function seedOf(peerId: string): number {
  return createHash('sha256').update(`mutate-seed:${peerId}`).digest().readUInt32BE(0) >>> 1;
}
