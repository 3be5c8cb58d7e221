import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DATASETS, type Dataset } from '../core/index.js';
import { AGENT_PLACEHOLDERS, AGENT_PRESETS } from '../agent/index.js';
import { DEFAULT_PLATEAU } from '../directions/index.js';
import { RUN_POLICIES, type RunPolicy } from '../trust/index.js';
import { CONNECTION_DEFAULTS, RELAY_DEFAULTS } from '../p2p/index.js';

export type ProposerKind = 'mutate' | 'claude' | 'openai' | 'agent';
const PROPOSERS: readonly ProposerKind[] = ['mutate', 'claude', 'openai', 'agent'];
/** Default time cap of one coding-agent call: 10 minutes. */
export const DEFAULT_AGENT_TIMEOUT = 600;
/** What a run's budget counts: seconds of training (the reference's), or tokens trained on. */
export type BudgetMode = 'time' | 'tokens';
export const BUDGET_MODES: readonly BudgetMode[] = ['time', 'tokens'];
/** 'auto' (the default): tokens on a CPU, so results do not depend on the box's load; the reference's 300 s on an accelerator. */
const MODE_CHOICES: readonly (BudgetMode | 'auto')[] = ['auto', ...BUDGET_MODES];
/** The reference's budget: 300 s of training on one GPU. */
export const DEFAULT_BUDGET_SECONDS = 300;
/**
 * Default token budget per run on a CPU: 150k tokens, 74 optimizer steps of the baseline's
 * 2,048-token batch. The baseline trains ~4k tokens/s on a 2-core CPU, so a run takes about a
 * minute with start-up and the harness: the first judged experiment comes within 5 minutes.
 */
export const CPU_BUDGET_TOKENS = 150_000;
/**
 * Default token budget per run in tokens mode on an accelerator: 2M tokens, ~0.77 epoch of sotu's
 * 2.6M training tokens (one pass, no repeated data); seconds on a GPU. For climbmix pass a
 * reference-sized budget, e.g. 500M (an H100's 300 s).
 */
export const DEFAULT_BUDGET_TOKENS = 2_000_000;
/**
 * Default hard timeout in tokens mode, where a run has no known duration: 1 s per 500 tokens
 * (7× slower than a 2-core CPU), at least 10 minutes and at most an hour.
 */
export function tokensTimeout(tokens: number): number {
  return Math.min(3600, Math.max(600, Math.ceil(tokens / 500)));
}

/** Everything `swarm join` needs to know, resolved and checked. */
export interface NodeConfig {
  /** The node's state folder: store, workspace, run logs. */
  state: string;
  /** Stop after this many experiments in this invocation; null runs forever. */
  maxExperiments: number | null;
  /** Training budget per experiment, in seconds (the reference's is 300); used in time mode. */
  budget: number;
  /**
   * 'time': train for `budget` seconds; 'tokens': train on `budgetTokens` tokens, whatever the box;
   * 'auto': decided by `resolveBudget` once the box's device is known.
   */
  budgetMode: BudgetMode | 'auto';
  /** Tokens per run in tokens mode; null: the default for the box's device. */
  budgetTokens: number | null;
  /** Hard wall-clock limit per run, after which the process tree is killed; null: the default for the mode. */
  timeout: number | null;
  dataset: Dataset;
  proposer: ProposerKind;
  model: string | null;
  baseUrl: string | null;
  /** The coding agent of `--proposer agent`: a preset (claude, codex, aider, opencode). */
  agent: string | null;
  /** Or any other agent: a command template with placeholders (docs/agents.md). */
  agentCmd: string | null;
  /** Time cap of one agent call, in seconds. */
  agentTimeout: number;
  /** Cost cap of one agent call, in US dollars, for agents that report cost; null: none. */
  agentMaxCost: number | null;
  /** The Python interpreter that runs the trainer. */
  python: string;
  /** Where prepare.py keeps data and tokenizers (shared by all nodes on a box). */
  cache: string;
  /** A candidate is kept only when it beats the best val_bpb by more than this. */
  threshold: number;
  /** Seed of the built-in mutator; null: derived from the node's peer id, so the nodes of a swarm explore differently. */
  seed: number | null;
  /** The human's instructions to the agent; default: the trainer folder's program.md, else node/program.md. */
  program: string;
  /** The trainer folder: the baseline train.py, and prepare.py (+ evaluate.py) when it brings its own harness (runner/layout.ts). */
  trainer: string;
  /** libp2p listen addresses. */
  listen: string[];
  /** Addresses to advertise instead (NAT, containers). */
  announce: string[];
  /** Peers to dial, besides those in bootstrap-peers.json. */
  bootstrap: string[];
  /** The file listing bootstrap peers (a JSON array of multiaddrs). */
  bootstrapFile: string;
  /** Find peers on the LAN with mDNS. */
  mdns: boolean;
  /** Relay for boxes behind NATs (circuit relay v2 server); for publicly reachable boxes. */
  relayServer: boolean;
  /** Relay server limits: reservations at once, seconds and bytes per relayed connection. */
  relaySlots: number;
  relayDuration: number;
  relayBytes: number;
  /** Reserve a slot on a relay: auto = unless this box is a relay server. */
  relayReserve: 'auto' | 'on' | 'off';
  /** Ask the router for a port mapping by UPnP. */
  upnp: boolean;
  /** Find the program's peers on its own DHT. */
  dht: boolean;
  /** Public multiaddrs a router forwards to this box's listen port, announced besides the others. */
  forwarded: string[];
  /** Most open connections before libp2p prunes. */
  maxConnections: number;
  /** Run peers' patches even without the bubblewrap sandbox. */
  allowUnsandboxed: boolean;
  /**
   * Trust a trainer folder's own prepare.py and evaluate.py that differ from the checkout's trainer/:
   * the node runs that prepare.py outside the fence (it builds the data) and believes that evaluate.py.
   */
  trustHarness: boolean;
  /** A pre-shared key file: only boxes holding the same key can connect (a private swarm). */
  swarmKey: string | null;
  /** Seeded runs of the best that measure the noise floor σ; 0 turns it off. */
  noiseRuns: number;
  /** Measure σ again after this many experiments. */
  noiseEvery: number;
  /** Keep a candidate only when it beats the best by more than noiseK·σ (also the replication tolerance). */
  noiseK: number;
  /** Peers that replicate a result that would become the swarm's best; 0 turns replication off here. */
  replicas: number;
  /** Whose code runs here: all (screened, sandboxed), verified, allowlist, none. */
  runPolicy: RunPolicy;
  /** Peer ids whose patches are trusted by name. */
  allowlist: string[];
  /** Fence limits per run; null takes the fence's default for this box (docs/trust.md). */
  memoryLimitGb: number | null;
  processLimit: number | null;
  cpuLimit: number | null;
  diskLimitGb: number | null;
  /** The GPUs a CUDA node trains on, one worker each: 'all', or nvidia-smi indexes. */
  gpus: 'all' | number[];
  /** Experiments at once: null = one per chosen GPU on CUDA, 1 on CPU and MPS. */
  workers: number | null;
  /** Where the web dashboard listens: 'HOST:PORT', or 'off'. */
  dashboard: string;
  /** Token the dashboard asks for; needed (and generated when missing) off loopback. */
  dashboardToken: string | null;
  /** Judged experiments without a keep after which the node changes how it proposes (wider steps, another direction); 0: never. */
  plateau: number;
}

/** A configuration whose budget is settled for this box: a concrete mode, token count and timeout. */
export type ResolvedConfig = NodeConfig & { budgetMode: BudgetMode; budgetTokens: number; timeout: number };

export type ConfigKey = keyof NodeConfig;
export const CONFIG_KEYS: readonly ConfigKey[] = [
  'state', 'maxExperiments', 'budget', 'budgetMode', 'budgetTokens', 'timeout', 'dataset', 'proposer', 'model', 'baseUrl',
  'agent', 'agentCmd', 'agentTimeout', 'agentMaxCost',
  'python', 'cache', 'threshold', 'seed', 'program', 'trainer',
  'listen', 'announce', 'bootstrap', 'bootstrapFile', 'mdns',
  'relayServer', 'relaySlots', 'relayDuration', 'relayBytes', 'relayReserve', 'upnp', 'dht', 'forwarded', 'maxConnections',
  'allowUnsandboxed', 'trustHarness', 'swarmKey',
  'noiseRuns', 'noiseEvery', 'noiseK', 'replicas', 'runPolicy', 'allowlist',
  'memoryLimitGb', 'processLimit', 'cpuLimit', 'diskLimitGb', 'gpus', 'workers', 'dashboard', 'dashboardToken', 'plateau',
];
const PATH_KEYS = new Set<ConfigKey>(['state', 'python', 'cache', 'program', 'trainer', 'bootstrapFile', 'swarmKey']);

export interface ConfigSources {
  /** Command-line flags, already named like the keys; undefined means "not given". */
  flags?: Partial<Record<ConfigKey, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** A config file; default node/swarm.config.json under the repository. Must exist when given. */
  file?: string;
  cwd?: string;
}

/** The repository root: two folders above this module, in src/ (tests) and dist/ alike. */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** Env var for a key: SWARM_ + the key in upper snake case (maxExperiments → SWARM_MAX_EXPERIMENTS). */
export function envName(key: ConfigKey): string {
  return 'SWARM_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/** Defaults < config file < environment < flags. Relative paths resolve against where they were written. */
export function loadConfig(sources: ConfigSources = {}): NodeConfig {
  const root = repoRoot();
  const cwd = sources.cwd ?? process.cwd();
  const env = sources.env ?? process.env;
  const raw: Partial<Record<ConfigKey, { value: unknown; origin: string; base: string }>> = {};

  const filePath = sources.file ? resolve(cwd, sources.file) : join(root, 'node', 'swarm.config.json');
  if (sources.file || existsSync(filePath)) {
    for (const [key, value] of Object.entries(readConfigFile(filePath))) {
      raw[key as ConfigKey] = { value, origin: `${filePath} ("${key}")`, base: dirname(filePath) };
    }
  }
  for (const key of CONFIG_KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') raw[key] = { value, origin: `environment variable ${envName(key)}`, base: cwd };
  }
  for (const key of CONFIG_KEYS) {
    const value = sources.flags?.[key];
    if (value !== undefined) raw[key] = { value, origin: `--${flagName(key)}`, base: cwd };
  }

  const get = <T>(key: ConfigKey, parse: (v: unknown, origin: string) => T, fallback: T): T => {
    const entry = raw[key];
    if (entry === undefined) return fallback;
    const value = parse(entry.value, entry.origin);
    return PATH_KEYS.has(key) && typeof value === 'string' ? (resolve(entry.base, expandHome(value)) as T) : value;
  };

  const budget = get<number | null>('budget', positiveNumber, null);
  const budgetTokens = get<number | null>('budgetTokens', tokenCount, null);
  const budgetMode = impliedMode(get('budgetMode', oneOf(MODE_CHOICES), 'auto'), budget, budgetTokens);
  const proposer = get('proposer', oneOf(PROPOSERS), 'mutate');
  const defaultPython = join(root, '.venv', 'bin', 'python');
  const trainer = get('trainer', text, join(root, 'trainer'));
  const config: NodeConfig = {
    state: get('state', text, join(root, 'node', 'state')),
    maxExperiments: get('maxExperiments', positiveInteger, null),
    budget: budget ?? DEFAULT_BUDGET_SECONDS,
    budgetMode,
    budgetTokens,
    timeout: get<number | null>('timeout', positiveNumber, null),
    dataset: get('dataset', oneOf(DATASETS), 'sotu'),
    proposer,
    model: get('model', text, proposer === 'claude' ? 'claude-sonnet-4-5' : null),
    baseUrl: get('baseUrl', text, null),
    agent: get<string | null>('agent', oneOf(AGENT_PRESETS), null),
    agentCmd: get<string | null>('agentCmd', agentCommand, null),
    agentTimeout: get('agentTimeout', positiveNumber, DEFAULT_AGENT_TIMEOUT),
    agentMaxCost: get<number | null>('agentMaxCost', positiveNumber, null),
    python: get('python', text, existsSync(defaultPython) ? defaultPython : 'python3'),
    cache: get('cache', text, join(homedir(), '.cache', 'swarm')),
    threshold: get('threshold', nonNegativeNumber, 0),
    seed: get<number | null>('seed', integer, null),
    program: get('program', text, defaultProgram(trainer, root)),
    trainer,
    listen: get('listen', list, ['/ip4/0.0.0.0/tcp/0']),
    announce: get('announce', list, []),
    bootstrap: get('bootstrap', list, []),
    bootstrapFile: get('bootstrapFile', text, join(root, 'bootstrap-peers.json')),
    mdns: get('mdns', bool, false),
    relayServer: get('relayServer', bool, false),
    relaySlots: get('relaySlots', positiveInteger, RELAY_DEFAULTS.slots),
    relayDuration: get('relayDuration', positiveInteger, RELAY_DEFAULTS.durationSeconds),
    relayBytes: get('relayBytes', positiveInteger, RELAY_DEFAULTS.bytes),
    relayReserve: get('relayReserve', oneOf(['auto', 'on', 'off'] as const), 'auto'),
    upnp: get('upnp', bool, false),
    dht: get('dht', bool, true),
    forwarded: get('forwarded', list, []),
    maxConnections: get('maxConnections', positiveInteger, CONNECTION_DEFAULTS.maxConnections),
    allowUnsandboxed: get('allowUnsandboxed', bool, false),
    trustHarness: get('trustHarness', bool, false),
    swarmKey: get<string | null>('swarmKey', text, null),
    noiseRuns: get('noiseRuns', nonNegativeInteger, 2),
    noiseEvery: get('noiseEvery', positiveInteger, 50),
    noiseK: get('noiseK', nonNegativeNumber, 2),
    replicas: get('replicas', nonNegativeInteger, 2),
    runPolicy: get('runPolicy', oneOf(RUN_POLICIES), 'all'),
    allowlist: get('allowlist', peerList, []),
    memoryLimitGb: get<number | null>('memoryLimitGb', positiveNumber, null),
    processLimit: get<number | null>('processLimit', positiveInteger, null),
    cpuLimit: get<number | null>('cpuLimit', positiveNumber, null),
    diskLimitGb: get<number | null>('diskLimitGb', positiveNumber, null),
    gpus: get<'all' | number[]>('gpus', gpuList, 'all'),
    workers: get<number | null>('workers', positiveInteger, null),
    dashboard: get('dashboard', listenAddress, '127.0.0.1:8470'),
    dashboardToken: get<string | null>('dashboardToken', text, null),
    plateau: get('plateau', nonNegativeInteger, DEFAULT_PLATEAU),
  };
  if (config.proposer === 'openai' && config.model === null) {
    throw new ConfigError('the openai proposer needs a model name', {
      hint: 'pass --model NAME (e.g. --model qwen2.5-coder:32b) and --base-url http://HOST:PORT/v1',
    });
  }
  checkAgent(config);
  if (config.budgetMode !== 'auto') resolveBudget(config, 'cpu');
  return config;
}

/** `--proposer agent` needs exactly one of --agent and --agent-cmd; they mean nothing to another proposer. */
function checkAgent(config: NodeConfig): void {
  const given = config.agent !== null || config.agentCmd !== null;
  if (config.proposer !== 'agent') {
    if (given) throw new ConfigError(`--agent and --agent-cmd choose the coding agent of --proposer agent, but the proposer is ${config.proposer}`, { hint: 'add --proposer agent' });
    return;
  }
  if (config.agent !== null && config.agentCmd !== null) {
    throw new ConfigError('both --agent and --agent-cmd are set; choose one', { hint: '--agent NAME runs a preset; --agent-cmd CMD runs any other agent' });
  }
  if (!given) {
    throw new ConfigError('the agent proposer needs a coding agent', {
      hint: `pass --agent ${AGENT_PRESETS.join('|')}, or --agent-cmd 'mytool --task {prompt_file}' (docs/agents.md)`,
    });
  }
}

/**
 * Settles the budget for this box: 'auto' means tokens on a CPU (a loaded box measures the load, not
 * the change, under a time budget; CPU boxes of any speed compare) and the reference's 300 s on an
 * accelerator. Token counts and timeouts left unset take the defaults for the mode and device.
 */
export function resolveBudget(config: NodeConfig, device: 'cuda' | 'mps' | 'cpu'): ResolvedConfig {
  const mode: BudgetMode = config.budgetMode !== 'auto' ? config.budgetMode : device === 'cpu' ? 'tokens' : 'time';
  const budgetTokens = config.budgetTokens ?? (device === 'cpu' ? CPU_BUDGET_TOKENS : DEFAULT_BUDGET_TOKENS);
  // The reference kills a 300 s run at 10 min; short test budgets still need time for start-up and evaluation.
  const timeout = config.timeout ?? (mode === 'tokens' ? tokensTimeout(budgetTokens) : Math.max(2 * config.budget, config.budget + 120));
  if (mode === 'time' && timeout <= config.budget) {
    throw new ConfigError(`the run timeout (${timeout} s) must exceed the budget (${config.budget} s)`, {
      hint: 'raise --timeout or lower --budget',
    });
  }
  return { ...config, budgetMode: mode, budgetTokens, timeout };
}

/** Without an explicit mode, a budget given in seconds means time and one given in tokens means tokens. */
function impliedMode(mode: BudgetMode | 'auto', seconds: number | null, tokens: number | null): BudgetMode | 'auto' {
  if (mode !== 'auto') return mode;
  if (seconds !== null && tokens !== null) {
    throw new ConfigError('both a time budget and a token budget are set, and no budget mode says which one counts', {
      hint: 'pass --budget-mode time or --budget-mode tokens (or set only one of --budget and --budget-tokens)',
    });
  }
  return seconds !== null ? 'time' : tokens !== null ? 'tokens' : 'auto';
}

/** A trainer folder's own program.md (the reference's layout) when it has one, else the node's. */
function defaultProgram(trainer: string, root: string): string {
  const own = join(trainer, 'program.md');
  return existsSync(own) ? own : join(root, 'node', 'program.md');
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`the config file ${path} is not valid JSON: ${(err as Error).message}`, {
      hint: 'fix the file or remove it to use the defaults', cause: err,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`the config file ${path} must hold a JSON object of settings`);
  }
  const unknown = Object.keys(value).filter((k) => !k.startsWith('$') && !(CONFIG_KEYS as string[]).includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(`the config file ${path} has unknown setting(s): ${unknown.join(', ')}`, {
      hint: `known settings: ${CONFIG_KEYS.join(', ')}`,
    });
  }
  // Keys starting with `$` are comments.
  return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith('$')));
}

const flagName = (key: ConfigKey) => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const expandHome = (p: string) => (p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p);
const fail = (origin: string, want: string, got: unknown) =>
  new ConfigError(`${origin} must be ${want}, got ${JSON.stringify(got)}`);

function text(v: unknown, origin: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw fail(origin, 'a non-empty string', v);
  return v;
}
function number(v: unknown, origin: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw fail(origin, 'a number', v);
  return n;
}
function positiveNumber(v: unknown, origin: string): number {
  const n = number(v, origin);
  if (n <= 0) throw fail(origin, 'a positive number', v);
  return n;
}
function nonNegativeNumber(v: unknown, origin: string): number {
  const n = number(v, origin);
  if (n < 0) throw fail(origin, 'zero or a positive number', v);
  return n;
}
function integer(v: unknown, origin: string): number {
  const n = number(v, origin);
  if (!Number.isInteger(n)) throw fail(origin, 'an integer', v);
  return n;
}
function nonNegativeInteger(v: unknown, origin: string): number {
  const n = integer(v, origin);
  if (n < 0) throw fail(origin, 'zero or a positive integer', v);
  return n;
}
function positiveInteger(v: unknown, origin: string): number {
  const n = integer(v, origin);
  if (n < 1) throw fail(origin, 'a positive integer', v);
  return n;
}
function tokenCount(v: unknown, origin: string): number {
  const n = positiveInteger(v, origin);
  if (!Number.isSafeInteger(n)) throw fail(origin, `a positive integer up to ${Number.MAX_SAFE_INTEGER}`, v);
  return n;
}
/** A list: an array in the config file, comma-separated in flags and the environment. */
function list(v: unknown, origin: string): string[] {
  const items = typeof v === 'string' ? v.split(',') : v;
  if (!Array.isArray(items) || !items.every((i) => typeof i === 'string')) throw fail(origin, 'a list of strings', v);
  return items.map((i) => i.trim()).filter((i) => i !== '');
}
/** 'all', or distinct GPU indexes: a list in the config file, comma-separated in flags and the environment. */
function gpuList(v: unknown, origin: string): 'all' | number[] {
  if (v === 'all') return v;
  const items = typeof v === 'string' ? v.split(',').map((i) => i.trim()) : v;
  const want = "'all' or GPU indexes as nvidia-smi numbers them (e.g. 0,2,5)";
  if (!Array.isArray(items) || items.length === 0) throw fail(origin, want, v);
  const gpus = items.map((i) => (typeof i === 'string' && /^\d{1,4}$/.test(i) ? Number(i) : i));
  if (!gpus.every((g): g is number => typeof g === 'number' && Number.isInteger(g) && g >= 0)) throw fail(origin, want, v);
  const twice = gpus.find((g, i) => gpus.indexOf(g) !== i);
  if (twice !== undefined) throw new ConfigError(`${origin} names GPU ${twice} twice`, { hint: 'each GPU runs one experiment at a time; list it once' });
  return gpus;
}
/** Peer ids (base58btc, as `swarm peers` prints them). */
function peerList(v: unknown, origin: string): string[] {
  const ids = list(v, origin);
  const bad = ids.find((id) => !/^[1-9A-HJ-NP-Za-km-z]{32,128}$/.test(id));
  if (bad !== undefined) throw fail(origin, 'a list of peer ids (as `npx swarm peers` prints them)', bad);
  return ids;
}
/** 'off', or HOST:PORT (port 0: any free port). */
function listenAddress(v: unknown, origin: string): string {
  const s = text(v, origin).trim();
  if (s === 'off') return s;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) throw fail(origin, "'off' or HOST:PORT (e.g. 127.0.0.1:8470)", v);
  return s;
}
/** A command template: words (split as execa does) of which at least one holds the task's placeholder, no unknown placeholder. */
function agentCommand(v: unknown, origin: string): string {
  const cmd = text(v, origin);
  const unknown = [...cmd.matchAll(/\{[a-z_]*\}/g)].map((m) => m[0]).filter((p) => !(AGENT_PLACEHOLDERS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new ConfigError(`${origin} has unknown placeholder(s) ${unknown.join(', ')}`, { hint: `known: ${AGENT_PLACEHOLDERS.join(', ')}` });
  if (!cmd.includes('{prompt}') && !cmd.includes('{prompt_file}')) {
    throw new ConfigError(`${origin} must pass the task to the agent with {prompt} or {prompt_file}`, { hint: "e.g. --agent-cmd 'mytool --message-file {prompt_file}'" });
  }
  return cmd;
}
function bool(v: unknown, origin: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw fail(origin, 'true or false', v);
}
function oneOf<T extends string>(choices: readonly T[]) {
  return (v: unknown, origin: string): T => {
    if (typeof v !== 'string' || !choices.includes(v as T)) throw fail(origin, `one of ${choices.join(', ')}`, v);
    return v as T;
  };
}
