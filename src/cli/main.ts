#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { AGENT_PRESETS } from '../agent/index.js';
import { loadConfig, type ConfigSources } from '../config/index.js';
import { diskError, StateError, SwarmError } from '../core/index.js';
import { generateSwarmKey } from '../p2p/index.js';
import { latestKeep } from '../loop/index.js';
import type { PlotAxis } from '../plot/index.js';
import { leaderboard, peerTable } from '../swarm/index.js';
import { keepMargin, latestFloor } from '../trust/index.js';
import { dashboardCommand } from './dashboard.js';
import { formatLeaderboard, formatLog, formatPeers, formatRecord, formatStatus } from './format.js';
import { demo } from './demo.js';
import { exportFormat, exportText, writeExport } from './export.js';
import { formatImport, importCommand } from './import.js';
import { join } from './join.js';
import { plot } from './plot.js';
import { exploreState, findRecord, readSnapshot } from './records.js';
import { formatVerify, verify } from './verify.js';

const program = new Command('swarm')
  .description('A peer-to-peer research swarm: an agent improves trainer/train.py, one experiment at a time.')
  .showHelpAfterError()
  .addHelpText('after', `
Settings come from, lowest first: built-in defaults, node/swarm.config.json (or --config),
environment variables SWARM_<SETTING> (e.g. SWARM_BUDGET=60, SWARM_MAX_EXPERIMENTS=10), then flags.`);

interface CommonOptions { state?: string; config?: string }
const common = (cmd: Command) => cmd
  .option('--state <dir>', 'state folder: store, workspace, run logs (default node/state)')
  .option('--config <file>', 'config file (default node/swarm.config.json)');

const sources = (o: CommonOptions, flags: ConfigSources['flags'] = {}): ConfigSources => ({
  flags: { state: o.state, ...flags }, ...(o.config ? { file: o.config } : {}),
});

common(program.command('join'))
  .description('run the research loop: propose, train, judge, record — until Ctrl-C or --max-experiments')
  .option('--max-experiments <n>', 'stop after n experiments (default: never)')
  .option('--budget <seconds>', 'training time per experiment; implies --budget-mode time (default 300)')
  .addOption(new Option('--budget-mode <mode>', 'what the budget counts: time (--budget seconds), tokens (--budget-tokens), or auto: tokens on a CPU, time on a GPU (default auto)').choices(['auto', 'time', 'tokens']))
  .option('--budget-tokens <n>', 'tokens trained per experiment; implies --budget-mode tokens (default 150000 on a CPU, 2000000 on a GPU)')
  .option('--timeout <seconds>', 'kill a run after this long (default max(2×budget, budget+120); in tokens mode 1 s per 500 tokens, 600 to 3600)')
  .addOption(new Option('--dataset <name>', 'data to train on (default sotu, offline)').choices(['sotu', 'climbmix']))
  .addOption(new Option('--proposer <kind>', 'who proposes changes (default mutate, offline); agent: your coding agent, run headless').choices(['mutate', 'claude', 'openai', 'agent']))
  .option('--model <name>', "LLM model (claude default claude-sonnet-4-5; required for openai); with --proposer agent, passed to the agent's model flag")
  .addOption(new Option('--agent <name>', 'the coding agent of --proposer agent (docs/agents.md)').choices([...AGENT_PRESETS]))
  .option('--agent-cmd <cmd>', 'any other coding agent: a command with {prompt}, {prompt_file}, {dir}, {train_py} placeholders, run without a shell')
  .option('--agent-timeout <seconds>', 'time cap of one agent call; its process group is killed at it (default 600)')
  .option('--agent-max-cost <usd>', 'cost cap of one agent call, for agents that report cost (claude, aider, opencode; default none)')
  .option('--base-url <url>', 'LLM endpoint (Anthropic: without /v1; OpenAI-compatible: with /v1)')
  .option('--python <path>', 'Python that runs the trainer (default .venv/bin/python)')
  .option('--cache <dir>', 'data and tokenizer cache (default ~/.cache/swarm)')
  .option('--threshold <bpb>', 'keep only wins larger than this (default 0)')
  .option('--seed <n>', 'seed of the built-in mutator (default: derived from the peer id, one per node)')
  .option('--trainer <dir>', "trainer folder: train.py (+ program.md), run by our harness; with its own prepare.py and no evaluate.py a foreign harness, whose results are self-reported (default trainer/)")
  .option('--program <file>', "instructions to the agent (default: the trainer folder's program.md if it has one, else node/program.md)")
  .option('--listen <addrs>', 'libp2p listen multiaddrs, comma-separated (default /ip4/0.0.0.0/tcp/0)')
  .option('--announce <addrs>', 'multiaddrs to advertise instead, comma-separated (NAT, containers)')
  .option('--bootstrap <addrs>', 'peers to join, comma-separated multiaddrs with /p2p/<id> (added to bootstrap-peers.json)')
  .option('--mdns', 'find peers on the local network')
  .option('--relay-server', 'relay for boxes behind NATs (only on a publicly reachable box; see docs/internet.md)')
  .option('--relay-slots <n>', 'relay server: peers holding a reservation at once (default 32)')
  .option('--relay-duration <seconds>', 'relay server: longest life of one relayed connection (default 600)')
  .option('--relay-bytes <n>', 'relay server: most bytes one relayed connection carries (default 4194304)')
  .addOption(new Option('--relay-reserve <mode>', 'reserve a slot on a relay and announce the relayed address: auto = unless --relay-server (default auto)').choices(['auto', 'on', 'off']))
  .option('--upnp', 'ask the router to forward a port (UPnP IGD)')
  .option('--no-dht', "do not look for the program's peers on its DHT (bootstrap list and mDNS only)")
  .option('--forwarded <addrs>', "public multiaddrs your router forwards to this box's --listen port, comma-separated (announced besides the relay address)")
  .option('--max-connections <n>', 'most open connections (default 128)')
  .option('--allow-unsandboxed', "run peers' patches even where bubblewrap is missing")
  .option('--trust-harness', "believe a --trainer folder's own prepare.py and evaluate.py that differ from trainer/ (its prepare.py runs outside the fence)")
  .option('--swarm-key <file>', 'pre-shared key of a private swarm: only boxes with the same key connect')
  .option('--noise-runs <n>', "seeded re-runs of the best that, with its own run, measure the noise floor σ (default 2; 0 turns it off)")
  .option('--noise-every <n>', 'measure σ again after n experiments (default 50)')
  .option('--noise-k <k>', 'keep only wins larger than k·σ; also the replication tolerance (default 2)')
  .option('--replicas <n>', "peers that re-run a result that would become the swarm's best (default 2)")
  .addOption(new Option('--run-policy <policy>', "whose code runs here (default all: screened and sandboxed)").choices(['all', 'verified', 'allowlist', 'none']))
  .option('--allowlist <peers>', 'peer ids trusted by name, comma-separated')
  .option('--memory-limit-gb <GiB>', 'memory of one run, all its processes (default: 3/4 of this box, split between the workers)')
  .option('--process-limit <n>', 'processes and threads of one run (default: max(512, 4 × cores))')
  .option('--cpu-limit <cores>', 'CPU time of one run, in cores (default: all)')
  .option('--disk-limit-gb <GiB>', 'what one run folder may hold (default 4)')
  .option('--gpus <list>', 'CUDA: the GPUs to train on, one experiment each: all (default) or indexes as nvidia-smi numbers them, e.g. 0,2,5')
  .option('--workers <n>', 'experiments at once (default: one per chosen GPU on CUDA, 1 on a CPU; on a CPU each gets cores / n threads)')
  .option('--dashboard <addr>', "where the web dashboard listens: HOST:PORT or off (default 127.0.0.1:8470, the next free port if taken)")
  .option('--dashboard-token <token>', 'token the dashboard asks for (required off loopback; generated when missing)')
  .option('--plateau <n>', 'after n experiments without a keep, propose differently: wider steps and combined changes, another direction (default 8; 0: never)')
  .action(async (o: CommonOptions & Record<string, string | boolean | undefined>) => {
    const src = sources(o as CommonOptions, {
      maxExperiments: o.maxExperiments, budget: o.budget, budgetMode: o.budgetMode, budgetTokens: o.budgetTokens,
      timeout: o.timeout, dataset: o.dataset,
      proposer: o.proposer, model: o.model, baseUrl: o.baseUrl,
      agent: o.agent, agentCmd: o.agentCmd, agentTimeout: o.agentTimeout, agentMaxCost: o.agentMaxCost, python: o.python, cache: o.cache,
      threshold: o.threshold, seed: o.seed, program: o.program, trainer: o.trainer, listen: o.listen, announce: o.announce,
      bootstrap: o.bootstrap, mdns: o.mdns,
      relayServer: o.relayServer, relaySlots: o.relaySlots, relayDuration: o.relayDuration, relayBytes: o.relayBytes, relayReserve: o.relayReserve,
      upnp: o.upnp, dht: o.dht === false ? false : undefined, forwarded: o.forwarded, maxConnections: o.maxConnections, allowUnsandboxed: o.allowUnsandboxed, trustHarness: o.trustHarness, swarmKey: o.swarmKey,
      dashboard: o.dashboard, dashboardToken: o.dashboardToken, noiseRuns: o.noiseRuns, noiseEvery: o.noiseEvery, noiseK: o.noiseK, replicas: o.replicas, runPolicy: o.runPolicy, allowlist: o.allowlist,
      memoryLimitGb: o.memoryLimitGb, processLimit: o.processLimit, cpuLimit: o.cpuLimit, diskLimitGb: o.diskLimitGb,
      gpus: o.gpus, workers: o.workers, plateau: o.plateau,
    });
    await join(src).catch((err: unknown) => {
      throw asStateError(err, () => loadConfig(src).state);
    });
  });

program.command('demo')
  .description('a local swarm of a few nodes on this box, each with its own state folder and dashboard, until Ctrl-C')
  .option('--nodes <n>', 'how many nodes (default 3)')
  .option('--dir <dir>', 'demo folder, one state folder per node; an earlier demo there resumes (default node/demo)')
  .option('--open', 'open the first dashboard in a browser (xdg-open)')
  .argument('[join-flags...]', "flags for every node's swarm join, after -- (e.g. -- --budget-tokens 100000)")
  .action(async (extra: string[], o: { nodes?: string; dir?: string; open?: boolean }) => {
    process.exitCode = await demo(o, extra);
  });

common(program.command('status'))
  .description('the node at a glance: experiments, best val_bpb, what runs now, plateau and directions')
  .option('--plateau <n>', 'the plateau length the node runs with, if not the configured one')
  .option('--json', 'machine-readable output')
  .action(async (o: CommonOptions & { json?: boolean; plateau?: string }) => {
    const { state, threshold, plateau } = loadConfig(sources(o, { plateau: o.plateau }));
    const snap = await readSnapshot(state);
    const { records, noise, live } = snap;
    const floor = latestFloor(noise);
    const noiseFloor = floor ? { sigma: floor.sigma, k: floor.k, runs: floor.values.length, margin: keepMargin(threshold, floor), afterSeq: floor.afterSeq, at: floor.at } : null;
    const exploration = await exploreState(state, snap, plateau);
    if (o.json) print(JSON.stringify({ state, running: live !== null, live, experiments: records.length, best: bestOf(records), noise: noiseFloor, exploration }, null, 2));
    else print(formatStatus(state, records, live, noiseFloor, exploration));
  });

common(program.command('log'))
  .description('a table of every experiment')
  .option('--json', 'machine-readable output (all records)')
  .action(async (o: CommonOptions & { json?: boolean }) => {
    const { records } = await readSnapshot(loadConfig(sources(o)).state);
    print(o.json ? JSON.stringify(records, null, 2) : formatLog(records));
  });

common(program.command('show'))
  .description('one experiment: hypothesis, diff, metrics, log tail')
  .argument('<id>', 'experiment number (12 or #12), id prefix, or commit prefix')
  .option('--json', 'machine-readable output')
  .action(async (id: string, o: CommonOptions & { json?: boolean }) => {
    const { records } = await readSnapshot(loadConfig(sources(o)).state);
    const record = findRecord(records, id);
    if (!record) throw new SwarmError(`no experiment matches "${id}"`, { hint: 'see `npx swarm log` for the numbers' });
    print(o.json ? JSON.stringify(record, null, 2) : formatRecord(record));
  });

common(program.command('leaderboard'))
  .description("the swarm's best val_bpb per hardware class, from every peer's signed results")
  .option('--json', 'machine-readable output')
  .action(async (o: CommonOptions & { json?: boolean }) => {
    const { shared } = await readSnapshot(loadConfig(sources(o)).state);
    const board = leaderboard(shared);
    print(o.json ? JSON.stringify(board, null, 2) : formatLeaderboard(board));
  });

common(program.command('verify'))
  .description("re-run an experiment (this node's or a peer's) on this box and compare with what it claimed")
  .argument('<id>', 'experiment number (12 or #12), id prefix or commit prefix; or a peer result id prefix (see leaderboard)')
  .option('--json', 'machine-readable output')
  .option('--trainer <dir>', 'the trainer folder the node joined with (default trainer/)')
  .option('--trust-harness', 'as for join: believe that folder\'s own prepare.py and evaluate.py')
  .action(async (ref: string, o: CommonOptions & { json?: boolean; trainer?: string; trustHarness?: boolean }) => {
    const report = await verify(loadConfig(sources(o, { trainer: o.trainer, trustHarness: o.trustHarness })), ref);
    print(o.json ? JSON.stringify(report, null, 2) : formatVerify(report));
  });

common(program.command('peers'))
  .description('peers seen in the swarm, with their experiment counts and bests')
  .option('--json', 'machine-readable output')
  .action(async (o: CommonOptions & { json?: boolean }) => {
    const { shared, live } = await readSnapshot(loadConfig(sources(o)).state);
    const connected = new Set(live?.swarm?.peers.filter((p) => p.connected).map((p) => p.id) ?? []);
    const rows = peerTable(shared).map((p) => ({ ...p, self: p.peer === live?.swarm?.peerId, connected: connected.has(p.peer) }));
    print(o.json ? JSON.stringify(rows, null, 2) : formatPeers(rows));
  });

common(program.command('dashboard'))
  .description("serve the node's live web page (progress chart, leaderboard, runs, peers) from its state folder, running or stopped")
  .option('--listen <host:port>', 'address of the page (default 127.0.0.1:8470); off loopback a token is required')
  .option('--token <token>', 'token the page asks for (default SWARM_DASHBOARD_TOKEN; generated and printed off loopback)')
  .action(async (o: CommonOptions & { listen?: string; token?: string }) => {
    const warn = (m: string) => process.stderr.write(`${m}\n`);
    await dashboardCommand(loadConfig(sources(o, { dashboard: o.listen, dashboardToken: o.token })), { info: print, warn, error: warn });
  });

program.command('key')
  .description('private swarms')
  .command('generate')
  .description('write a new pre-shared swarm key (give a copy to every invited box; pass it with --swarm-key)')
  .requiredOption('-o, --out <file>', 'where to write the key (refuses to overwrite)')
  .action(async (o: { out: string }) => {
    try {
      await writeFile(o.out, generateSwarmKey(), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      throw new SwarmError(`cannot write the swarm key to ${o.out}: ${(err as Error).message}`, {
        hint: 'choose a path that does not exist yet; an existing key is never overwritten',
      });
    }
    print(`wrote a new swarm key to ${o.out}; join with --swarm-key ${o.out}`);
  });

common(program.command('export'))
  .description('export every experiment that ran (kept, discarded, crashed)')
  .option('--tsv', "the reference's results.tsv format")
  .option('--json', 'JSON: the full records, in the shape of `swarm log --json`')
  .option('-o, --out <file>', 'write to a file instead of standard output')
  .action(async (o: CommonOptions & { tsv?: boolean; json?: boolean; out?: string }) => {
    const format = exportFormat(o);
    const { records } = await readSnapshot(loadConfig(sources(o)).state);
    const text = exportText(records, format);
    if (o.out) await writeExport(o.out, text);
    else process.stdout.write(text);
  });

common(program.command('import'))
  .description("bring in another autoresearch run (its git repository and results.tsv) as this node's history, shared on the next join")
  .argument('<repo>', 'the run\'s checkout (or bare repository)')
  .option('--branch <branch>', 'the run branch (default: the checked-out one)')
  .option('--tsv <file>', 'its results.tsv (default REPO/results.tsv)')
  .action(async (repo: string, o: CommonOptions & { branch?: string; tsv?: string }) => {
    const src = sources(o);
    const report = await importCommand(src, { repo, ...(o.branch ? { branch: o.branch } : {}), ...(o.tsv ? { tsv: o.tsv } : {}) }).catch((err: unknown) => {
      throw asStateError(err, () => loadConfig(src).state);
    });
    print(formatImport(report));
  });

common(program.command('plot'))
  .description("draw the progress picture (the reference's progress.png): every experiment a dot, the best-so-far line")
  .option('-o, --out <file>', 'the picture to write (.png; .svg and .pdf work too)', 'progress.png')
  .option('--swarm', "every peer's results from the shared records, one colour per peer")
  .addOption(new Option('--by <axis>', 'x axis: experiment number or time').choices(['experiment', 'time']).default('experiment'))
  .action(async (o: CommonOptions & { out: string; swarm?: boolean; by: PlotAxis }) => {
    print(await plot(loadConfig(sources(o)), { out: o.out, swarm: o.swarm === true, by: o.by }));
  });

function bestOf(records: Awaited<ReturnType<typeof readSnapshot>>['records']) {
  const best = latestKeep(records);
  return best ? { seq: best.seq, id: best.id, val_bpb: best.metrics!.val_bpb, hypothesis: best.hypothesis, commit: best.commit } : null;
}

/** A write into the state folder that the disk refused, not already typed by the store or the workspace: one clear line too. */
function asStateError(err: unknown, state: () => string): unknown {
  if (err instanceof SwarmError) return err;
  const path = (err as { path?: unknown }).path;
  return diskError(StateError, err, typeof path === 'string' ? path : state(), 'write to the state folder') ?? err;
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof SwarmError) {
    process.stderr.write(`swarm: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
    process.exit(1);
  }
  throw err;
}
