// Nodes for the benchmarks, built from dist/ the way `swarm join` builds them (src/cli/join.ts): a LevelDB
// store, a git workspace, the Python trainer, and for a swarm node libp2p on 127.0.0.1 and the swarm link.
// Settings are join's defaults (noise floor 2 runs every 50, k = 2, 2 replicas) unless the caller overrides them.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runLoop } from '../../dist/loop/index.js';
import { createSwarmNet } from '../../dist/p2p/index.js';
import { pythonTrainer } from '../../dist/runner/index.js';
import { openStore } from '../../dist/store/index.js';
import { swarmLink } from '../../dist/swarm/index.js';
import { openWorkspace } from '../../dist/workspace/index.js';

const root = resolve(import.meta.dirname, '..', '..');
export const PYTHON = process.env.SWARM_PYTHON ?? join(root, '.venv', 'bin', 'python');
/** Every benchmark node is one box of one hardware class, whatever this machine is. */
const HARDWARE = { device: 'cpu', name: 'bench cpu', count: 1, memoryGb: 1, torch: 'none', cuda: null, python: '3' };
const PROGRAM = 'be11c4be11c4be11';
const quiet = { info() {}, warn() {}, error() {} };

/**
 * One node. `opts`: name, trainerDir, budget (seconds), env (the trainer's), swarm (false: a lone box),
 * bootstrap (multiaddrs), claimSettleMs, replicas, noise ({runs, every, k}), workers, timeoutSeconds, log.
 */
export async function benchNode(opts) {
  const state = await mkdtemp(join(tmpdir(), `bench-${opts.name}-`));
  const store = await openStore(join(state, 'db'));
  const workspace = await openWorkspace({ dir: join(state, 'ws.git'), baseline: await readFile(join(opts.trainerDir, 'train.py'), 'utf8') });
  const trainer = pythonTrainer({
    python: PYTHON, trainerDir: opts.trainerDir, cacheDir: join(state, 'cache'), dataset: 'sotu', budgetSeconds: opts.budget,
    timeoutSeconds: opts.timeoutSeconds ?? 600, metric: 'printed', hardware: HARDWARE, env: opts.env ?? {},
  });
  const log = opts.log ?? quiet;
  let net = null;
  let link = null;
  if (opts.swarm !== false) {
    link = swarmLink({
      store, workspace, log, hardware: HARDWARE, hardwareClass: HARDWARE.name, claimSeconds: opts.timeoutSeconds ?? 600, threshold: 0,
      refusePeerCode: null, replicas: opts.replicas ?? 2, noiseK: opts.noise?.k ?? 2, claimSettleMs: opts.claimSettleMs ?? 1000,
    });
    net = await createSwarmNet({
      identityFile: join(state, 'identity.key'), programId: PROGRAM, listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: opts.bootstrap ?? [], source: link.source, redialMs: 500, log,
    });
    link.attach(net);
  }
  const noise = opts.noise ?? { runs: 2, every: 50, k: 2 };
  const run = ({ proposer, maxExperiments = null, signal, onEvent }) => runLoop({
    store, workspace, trainer, proposer, program: 'lower val_bpb', dataset: 'sotu', budget: opts.budget, threshold: 0,
    runsDir: join(state, 'runs'), maxExperiments, noise, log, signal, onEvent, ...(link ? { swarm: link.hooks } : {}),
    ...(opts.workers ? { workers: opts.workers } : {}),
  });
  const close = async () => {
    await net?.stop();
    await link?.settled();
    await store.close();
    await rm(state, { recursive: true, force: true });
  };
  return { name: opts.name, state, store, workspace, net, link, run, close, address: () => net?.addresses()[0] };
}

/** Polls `check` every 100 ms until it holds or `ms` pass; returns whether it held. */
export async function until(check, ms) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
