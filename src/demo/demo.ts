import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import { bootstrapPath, prepareFolder, writeMeta, type DemoMeta, type Slot } from './folder.js';
import { dialAddress, startNode, waitForSwarm, type DemoNode } from './node.js';
import { output, type Output } from './output.js';
import { report, watch, type Snapshot, type WatchContext } from './watch.js';

/**
 * What every demo node runs with, before the user's own flags (which override them): a small tokens
 * budget (15 steps: under a minute a run with three nodes on two idle cores, about two on a busy
 * box; a tokens budget does not depend on the load), no noise runs
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
  snapshot: Snapshot;
  /** How often to look for what happened, ms; default 5000. */
  pollMs?: number;
  out?: Output;
}

/** `swarm demo`: runs the nodes until Ctrl-C (or one fails); the exit code to leave with. */
export async function runDemo(init: DemoInit): Promise<number> {
  const out = init.out ?? output(process.stdout);
  const { slots, meta, resumed } = await prepareFolder(init.dir, init.nodes);
  const started = Date.now();
  const swarm = children(init, slots, meta, out);
  const untrap = trapSignals((name) => {
    out.demo(swarm.stopping() ? `${name} again: the nodes stop at once` : `${name}: stopping every node; \`swarm demo --dir ${init.dir}\` resumes them`);
    swarm.stop();
  }, () => swarm.stop('SIGTERM'));
  try {
    out.demo(`${slots.length} nodes in ${init.dir}${resumed ? ` (resuming the demo of ${meta.createdAt})` : ''}; Ctrl-C stops them all`);
    out.demo(`every node runs: swarm join --state ${init.dir}/node-N ${[...DEMO_FLAGS, ...init.extra].join(' ')}`);
    await swarm.startAll();
    const ctx: WatchContext = { snapshot: init.snapshot, pollMs: init.pollMs ?? 5000, dir: init.dir, slots, meta, names: swarm.names, out, started };
    const seen = await watch(ctx, swarm.over);
    await swarm.exited();
    await report(ctx, seen, !swarm.failed());
  } catch (err) {
    swarm.fail(`${(err as Error).message}; stopping the nodes`);
    await swarm.exited();
  } finally {
    untrap();
  }
  return swarm.failed() ? 1 : 0;
}

/** SIGINT and SIGTERM go to `onSignal`; the demo exiting any other way stops the nodes too (`onExit`). */
function trapSignals(onSignal: (name: string) => void, onExit: () => void): () => void {
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('exit', onExit);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('exit', onExit);
  };
}

/** The demo's node processes: started one at a time, watched, stopped together. */
function children(init: DemoInit, slots: readonly Slot[], meta: DemoMeta, out: Output) {
  const env = { ...process.env, SWARM_BOOTSTRAP_FILE: bootstrapPath(init.dir), ...threads(slots.length) } as Record<string, string>;
  const nodes: DemoNode[] = [];
  const names = new Map(meta.nodes.flatMap((n) => (n.peerId ? [[n.peerId, n.name] as const] : [])));
  let stopping = false;
  let failed = false;
  const stop = (signal: NodeJS.Signals = 'SIGINT') => {
    stopping = true;
    for (const n of nodes) n.signal(signal);
  };
  const fail = (line: string) => {
    failed = true;
    out.demo(line);
    stop();
  };

  const start = (slot: Slot, index: number, bootstrap: string | null): DemoNode => {
    const node = startNode({
      cli: init.cli, slot, env: { ...env, ...dashboard(index) },
      args: ['--listen', '/ip4/127.0.0.1/tcp/0', ...(bootstrap ? ['--bootstrap', bootstrap] : []), ...DEMO_FLAGS, ...init.extra],
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
      fail(`${slot.name} stopped early (${code === null ? `signal ${signal}` : `exit code ${code}`}; its last lines are above); stopping the others`);
    });
    return node;
  };

  /** Waits for the node's address and peer id, and remembers the id (names in the summary, resumed demos). */
  const joined = async (node: DemoNode, index: number) => {
    const swarm = await waitForSwarm(node, 180_000);
    meta.nodes[index]!.peerId = swarm.peerId;
    names.set(swarm.peerId, node.name);
    await writeMeta(init.dir, meta);
    return swarm;
  };

  return {
    names,
    stop,
    fail,
    stopping: () => stopping,
    failed: () => failed,
    over: () => nodes.every((n) => n.done()),
    exited: async () => void (await Promise.all(nodes.map((n) => n.exited))),
    /** One at a time, each dialling all before it: a full mesh, so every node fetches from every other directly. */
    async startAll(): Promise<void> {
      const addresses: string[] = [];
      for (const [i, slot] of slots.entries()) {
        if (stopping) return;
        const node = start(slot, i, addresses.join(',') || null);
        const swarm = await joined(node, i).catch((err: unknown) => (stopping ? null : Promise.reject(err)));
        if (!swarm) return;
        addresses.push(dialAddress(swarm.addresses));
        const next = slots[i + 1] ? `; starting ${slots[i + 1]!.name} with --bootstrap to ${i === 0 ? 'it' : 'the nodes so far'}` : '';
        out.demo(`${slot.name} is up at ${addresses.at(-1)}${next}`);
      }
    },
  };
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

/** Opens a URL with xdg-open where there is one; a demo without a desktop just prints it. */
function openBrowser(url: string, out: Output): void {
  execa('xdg-open', [url], { stdio: 'ignore', detached: true, reject: false }).then((r) => {
    if (r.failed) out.demo(`could not open a browser (${(r.shortMessage ?? '').split('\n')[0]}); open ${url} yourself`);
  }, () => {});
}
