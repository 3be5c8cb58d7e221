import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import type { ExperimentRecord } from '../core/index.js';
import type { SignedRecord } from '../p2p/index.js';
import { bootstrapPath, prepareFolder, writeMeta, type DemoMeta, type Slot } from './folder.js';
import { countsOf, KINDS, milestones, type Kind, type NodeView } from './events.js';
import { dialAddress, startNode, waitForSwarm, type DemoNode } from './node.js';
import { output, type Output } from './output.js';

/**
 * What every demo node runs with, before the user's own flags (which override them): a small tokens
 * budget (about a minute a run with three nodes on two cores, the same everywhere), no noise runs
 * (the first experiment comes right after the baseline), and two replicas (both other nodes re-run a
 * would-be best). Measured in docs/demo.md.
 */
export const DEMO_FLAGS = ['--budget-mode', 'tokens', '--budget-tokens', '30000', '--noise-runs', '0', '--replicas', '2'];
/** Node i's dashboard asks for this port + i - 1 (a taken one falls back to a free port). */
export const DASHBOARD_PORT = 8470;

export interface DemoInit {
  dir: string;
  nodes: number;
  /** Open node 1's dashboard in a browser (xdg-open) once it is up. */
  open: boolean;
  /** Flags for every node's `swarm join`, after the demo's. */
  extra: readonly string[];
  /** The CLI entry point the nodes run (dist/cli/main.js). */
  cli: string;
  /** A node's records, running or stopped (readSnapshot). */
  snapshot(state: string): Promise<{ records: ExperimentRecord[]; shared: SignedRecord[] }>;
  /** How often to look for what happened, ms; default 5000. */
  pollMs?: number;
  out?: Output;
}

/** `swarm demo`: runs the nodes until Ctrl-C (or one fails); the exit code to leave with. */
export async function runDemo(init: DemoInit): Promise<number> {
  const out = init.out ?? output(process.stdout);
  const { slots, meta, resumed } = await prepareFolder(init.dir, init.nodes);
  const started = Date.now();
  const nodes: DemoNode[] = [];
  const env = { ...process.env, SWARM_BOOTSTRAP_FILE: bootstrapPath(init.dir), ...threads(slots.length) } as Record<string, string>;
  let stopping = false;
  let failed = false;

  const stopAll = (signal: NodeJS.Signals = 'SIGINT') => {
    for (const n of nodes) n.signal(signal);
  };
  const onSignal = (name: string) => () => {
    if (stopping) out.demo(`${name} again: the nodes stop at once`);
    else out.demo(`${name}: stopping every node; \`swarm demo --dir ${init.dir}\` resumes them`);
    stopping = true;
    stopAll();
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  // The demo dying some other way must not leave nodes behind.
  const onExit = () => stopAll('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('exit', onExit);

  const start = (slot: Slot, index: number, bootstrap: string | null): DemoNode => {
    const args = ['--listen', '/ip4/127.0.0.1/tcp/0', ...(bootstrap ? ['--bootstrap', bootstrap] : []), ...DEMO_FLAGS, ...init.extra];
    const node = startNode({
      cli: init.cli, slot, args, env: { ...env, ...dashboard(index) },
      line: (text) => out.node(slot.name, index, text),
      dashboard: (url) => {
        out.demo(`${slot.name} dashboard: ${url}`);
        if (index === 0 && init.open) openBrowser(url, out);
      },
    });
    nodes.push(node);
    void node.exited.then(({ code, signal }) => {
      if (stopping) return;
      if (code === 0) return out.demo(`${slot.name} finished by itself`);
      failed = stopping = true;
      out.demo(`${slot.name} stopped early (${code === null ? `signal ${signal}` : `exit code ${code}`}; its last lines are above); stopping the others`);
      stopAll();
    });
    return node;
  };
  const names = new Map<string, string>();
  const joined = async (node: DemoNode, index: number) => {
    const swarm = await waitForSwarm(node, 180_000);
    meta.nodes[index]!.peerId = swarm.peerId;
    names.set(swarm.peerId, node.name);
    await writeMeta(init.dir, meta);
    return swarm;
  };

  try {
    out.demo(`${slots.length} nodes in ${init.dir}${resumed ? ` (resuming the demo of ${meta.createdAt})` : ''}; Ctrl-C stops them all`);
    out.demo(`every node runs: swarm join --state ${init.dir}/node-N ${[...DEMO_FLAGS, ...init.extra].join(' ')}`);
    for (const n of meta.nodes) if (n.peerId) names.set(n.peerId, n.name);
    // One at a time, each dialling all before it: a full mesh, so every node fetches from every other directly.
    const addresses: string[] = [];
    for (const [i, slot] of slots.entries()) {
      if (stopping) break;
      const node = start(slot, i, addresses.join(',') || null);
      const swarm = await joined(node, i).catch((err: unknown) => (stopping ? null : Promise.reject(err)));
      if (!swarm) break;
      addresses.push(dialAddress(swarm.addresses));
      out.demo(`${slot.name} is up at ${addresses.at(-1)}${i + 1 < slots.length ? `; starting ${slots[i + 1]!.name} with --bootstrap to ${i === 0 ? 'it' : 'the nodes so far'}` : ''}`);
    }
    const seen = await watch(init, slots, names, meta, out, started, () => nodes.every((n) => n.done()));
    await Promise.all(nodes.map((n) => n.exited));
    await report(init, slots, meta, names, out, started, seen, !failed);
  } catch (err) {
    failed = true;
    out.demo(`${(err as Error).message}; stopping the nodes`);
    stopAll();
    await Promise.all(nodes.map((n) => n.exited));
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('exit', onExit);
  }
  return failed ? 1 : 0;
}

/**
 * The cores shared out between the nodes' runs (at least one thread each), unless the user set it:
 * PyTorch takes every core in each of them, and three runs on two cores then thrash.
 */
function threads(nodes: number): Record<string, string> {
  if (process.env.OMP_NUM_THREADS) return {};
  return { OMP_NUM_THREADS: String(Math.max(1, Math.floor(availableParallelism() / nodes))) };
}

/**
 * Node i's dashboard address, through the environment so that the user's own SWARM_DASHBOARD or
 * `-- --dashboard off` (a flag) wins.
 */
function dashboard(index: number): Record<string, string> {
  return process.env.SWARM_DASHBOARD ? {} : { SWARM_DASHBOARD: `127.0.0.1:${DASHBOARD_PORT + index}` };
}

/** Reads every node's store, leaving out nodes that cannot answer now. */
async function views(init: DemoInit, slots: readonly Slot[], meta: DemoMeta): Promise<NodeView[]> {
  const read = slots.map(async (slot, i): Promise<NodeView | null> => {
    try {
      const { records, shared } = await init.snapshot(slot.state);
      return { name: slot.name, peerId: meta.nodes[i]?.peerId ?? null, records, shared };
    } catch {
      return null;
    }
  });
  return (await Promise.all(read)).filter((v): v is NodeView => v !== null);
}

/** Prints each of share / skip / rebase / replicate the first time a node shows it, until `over`. */
async function watch(init: DemoInit, slots: readonly Slot[], names: Map<string, string>, meta: DemoMeta, out: Output, started: number, over: () => boolean): Promise<Set<Kind>> {
  const seen = new Set<Kind>();
  while (!over() && seen.size < KINDS.length) {
    await sleepUntil(init.pollMs ?? 5000, over);
    if (over()) break;
    for (const m of milestones(await views(init, slots, meta), names).sort((a, b) => a.at.localeCompare(b.at))) {
      if (seen.has(m.kind)) continue;
      seen.add(m.kind);
      out.demo(`${clock(Date.parse(m.at), started)} first ${m.kind}: ${m.text}`);
    }
  }
  if (seen.size === KINDS.length) out.demo('the swarm has shared, skipped, rebased and replicated; it goes on until Ctrl-C');
  while (!over()) await sleepUntil(1000, over);
  return seen;
}

/** The summary after every node stopped, read from their stores. */
async function report(init: DemoInit, slots: readonly Slot[], meta: DemoMeta, names: Map<string, string>, out: Output, started: number, seen: Set<Kind>, hint: boolean): Promise<void> {
  const all = await views(init, slots, meta);
  const found = milestones(all, names);
  for (const m of [...found].sort((a, b) => a.at.localeCompare(b.at))) {
    if (!seen.has(m.kind)) out.demo(`${clock(Date.parse(m.at), started)} first ${m.kind}: ${m.text}`);
  }
  const missing = KINDS.filter((k) => !found.some((m) => m.kind === k));
  out.demo(`all nodes stopped after ${clock(Date.now(), started)}; what each did (all runs of this demo folder):`);
  for (const v of all) {
    const c = countsOf(v);
    out.demo(`  ${v.name}: ${c.experiments} experiments (${c.kept} kept), ${c.received} results received from peers, `
      + `${c.skipped} skipped as tried by a peer, ${c.rebased} peer changes rebased and run, ${c.replicated} replications of a peer's would-be best`);
  }
  if (missing.length > 0 && hint) out.demo(`not seen yet: ${missing.join(', ')} (let it run longer; \`swarm demo --dir ${init.dir}\` resumes)`);
}

/** "+2m05s" after the demo started ("earlier" for what an earlier run of the demo did). */
function clock(at: number, started: number): string {
  const s = Math.round((at - started) / 1000);
  if (s < -5) return 'earlier';
  const t = Math.max(0, s);
  return `+${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
}

async function sleepUntil(ms: number, over: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !over()) await new Promise((r) => setTimeout(r, Math.min(250, ms)));
}

/** Opens a URL with xdg-open where there is one; a demo without a desktop just prints it. */
function openBrowser(url: string, out: Output): void {
  execa('xdg-open', [url], { stdio: 'ignore', detached: true, reject: false }).then((r) => {
    if (r.failed) out.demo(`could not open a browser (${(r.shortMessage ?? '').split('\n')[0]}); open ${url} yourself`);
  }, () => {});
}
