import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { queryControl, type LiveStatus } from '../control/index.js';
import type { Slot } from './folder.js';

/** A `swarm join` child of the demo. */
export interface DemoNode {
  name: string;
  state: string;
  pid: number | undefined;
  /** Resolves when the process has exited, with its exit code (null: killed by a signal). */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** True once the process has exited. */
  done(): boolean;
  /** Sends it a signal (SIGINT: stop cleanly; twice: at once). */
  signal(name: NodeJS.Signals): void;
}

export interface StartNode {
  /** Path of the CLI entry point (dist/cli/main.js). */
  cli: string;
  slot: Slot;
  /** Arguments after `join --state DIR`. */
  args: string[];
  env: Record<string, string>;
  /** Receives every output line of the child. */
  line(text: string): void;
  /** Receives a dashboard URL the child printed. */
  dashboard(url: string): void;
}

/** A URL on loopback printed by the node in a line about its dashboard. */
const DASHBOARD_URL = /dashboard.*?(https?:\/\/[^\s"'<>]+)/i;

/**
 * Starts `swarm join` for one slot. The child gets its own process group, so a Ctrl-C in the
 * terminal reaches it once, through the demo (a second SIGINT would make it quit without finishing).
 */
export function startNode(o: StartNode): DemoNode {
  const proc: ResultPromise = execa(process.execPath, [o.cli, 'join', '--state', o.slot.state, ...o.args], {
    env: o.env, stdin: 'ignore', buffer: false, reject: false, detached: true, cleanup: false,
  });
  let finished = false;
  let dashboardSeen = false;
  const read = (stream: NodeJS.ReadableStream | null) => {
    if (!stream) return;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (text) => {
      o.line(text);
      const url = dashboardSeen ? null : DASHBOARD_URL.exec(text)?.[1];
      if (url) {
        dashboardSeen = true;
        o.dashboard(url);
      }
    });
  };
  read(proc.stdout);
  read(proc.stderr);
  const exited = proc.then((r) => {
    finished = true;
    return { code: r.exitCode ?? null, signal: r.signal ?? null };
  });
  return {
    name: o.slot.name, state: o.slot.state, pid: proc.pid, exited,
    done: () => finished,
    signal(name) {
      if (!finished) proc.kill(name);
    },
  };
}

/**
 * Waits until the node's control socket reports its libp2p addresses and peer id (the node opens
 * its store, checks its trainer and fence first: seconds, longer on a busy box).
 */
export async function waitForSwarm(node: DemoNode, timeoutMs: number): Promise<NonNullable<LiveStatus['swarm']>> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (node.done()) throw new Error(`${node.name} exited before it joined the swarm`);
    const live = await queryControl<LiveStatus>(node.state, '/status', 2000).catch(() => null);
    if (live?.swarm && live.swarm.addresses.length > 0) return live.swarm;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${node.name} did not report a swarm address within ${Math.round(timeoutMs / 1000)} s`);
}

/** The address peers on this box dial: a loopback one when there is one. */
export function dialAddress(addresses: readonly string[]): string {
  return addresses.find((a) => a.startsWith('/ip4/127.')) ?? addresses[0]!;
}
