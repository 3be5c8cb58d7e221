import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Proposal, Proposer } from '../../src/agent/index.js';
import { runLoop } from '../../src/loop/index.js';
import { createSwarmNet, type SignedRecord, type SwarmNet } from '../../src/p2p/index.js';
import { pythonTrainer, type Trainer } from '../../src/runner/index.js';
import { openStore } from '../../src/store/index.js';
import { swarmLink, type LinkInit } from '../../src/swarm/index.js';
import { openWorkspace } from '../../src/workspace/index.js';
import { metricOf, PYTHON, STUB_TRAINER, TEST_CACHE } from './paths.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

export const PROGRAM = 'aa11bb22cc33dd44';

/** A proposer that plays back edits: each a hypothesis and a function of the current train.py. */
export function scripted(edits: { hypothesis: string; edit: (source: string) => string }[]): Proposer {
  const queue = [...edits];
  return {
    name: 'script',
    async propose(ctx): Promise<Proposal> {
      const next = queue.shift();
      if (!next) throw new Error('script exhausted');
      return { hypothesis: next.hypothesis, source: next.edit(ctx.source), proposer: 'script' };
    },
  };
}

export const setConst = (name: string, value: string) => (source: string) =>
  source.replace(new RegExp(`^${name} = [^ ]+`, 'm'), `${name} = ${value}`);

const STUB_HARDWARE = { device: 'cpu', name: 'stub cpu', count: 1, memoryGb: 1, torch: 'none', cuda: null, python: '3' } as const;

/** A full swarm node in-process: store, workspace, libp2p on 127.0.0.1, the link, and a loop to drive. */
export async function swarmNode(opts: {
  name: string; bootstrap?: SwarmNode[]; trainerDir?: string; budget?: number; refusePeerCode?: string | null;
  /** Wraps the real trainer (e.g. a node that lies about what it measured). */
  trainer?: (real: Trainer) => Trainer;
  /** Trust settings of the link (policy, allowlist, replicas). */
  trust?: Pick<LinkInit, 'policy' | 'allowlist' | 'replicas' | 'noiseK'>;
  /** The wait for racing claims; 0 (none) unless a test is about that race. */
  claimSettleMs?: number;
  /** The research program id (default PROGRAM). */
  program?: string;
  /** The state folder of a node stopped earlier: this one is that node, restarted. */
  state?: string;
}) {
  const state = opts.state ?? await mkdtemp(join(tmpdir(), `swarm-${opts.name}-`));
  if (!opts.state) cleanups.push(() => rm(state, { recursive: true, force: true }));
  const trainerDir = opts.trainerDir ?? STUB_TRAINER;
  const budget = opts.budget ?? 1;
  const store = await openStore(join(state, 'db'));
  cleanups.push(() => store.close());
  const workspace = await openWorkspace({ dir: join(state, 'ws.git'), baseline: await readFile(join(trainerDir, 'train.py'), 'utf8') });
  const real = pythonTrainer({
    python: PYTHON, trainerDir, cacheDir: TEST_CACHE, dataset: 'sotu', budgetSeconds: budget, timeoutSeconds: 120, metric: metricOf(trainerDir),
    hardware: STUB_HARDWARE, // every test node is one box of the class its link names ('stub cpu'), not whatever this machine probes
  });
  const trainer = opts.trainer ? opts.trainer(real) : real;
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(`warn: ${m}`), error: (m: string) => logs.push(`error: ${m}`) };
  const link = swarmLink({
    store, workspace, log, hardwareClass: 'stub cpu', claimSeconds: 60, threshold: 0, refusePeerCode: opts.refusePeerCode ?? null,
    // Replication is off unless a test asks for it, so other tests' run counts stay exact.
    replicas: 0, ...opts.trust, claimSettleMs: opts.claimSettleMs ?? 0,
  });
  const net: SwarmNet = await createSwarmNet({
    identityFile: join(state, 'identity.key'), programId: opts.program ?? PROGRAM, listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: (opts.bootstrap ?? []).map((b) => b.net.addresses()[0]!), source: link.source, redialMs: 500, log,
  });
  cleanups.push(() => net.stop());
  link.attach(net);
  const run = (maxExperiments: number, proposer: Proposer) => runLoop({
    store, workspace, trainer, proposer, program: 'lower val_bpb', dataset: 'sotu', budget, threshold: 0,
    runsDir: join(state, 'runs'), maxExperiments, log, swarm: link.hooks,
  });
  /** Stops the node as Ctrl-C would (the state stays, for a restart). */
  const stop = async () => {
    await net.stop();
    await link.settled();
    await store.close();
  };
  return { name: opts.name, state, store, workspace, net, link, logs, run, stop, shared: async () => (await store.shared()) as unknown as SignedRecord[] };
}
export type SwarmNode = Awaited<ReturnType<typeof swarmNode>>;

/** Polls until `check` holds, failing with `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ids of every swarm record a node holds, for comparing what nodes know. */
export async function recordIds(node: SwarmNode): Promise<string[]> {
  return (await node.shared()).map((r) => `${r.peer}/${r.seq}`).sort();
}
