import type { ExperimentRecord } from '../core/index.js';
import type { SignedRecord } from '../p2p/index.js';
import { countsOf, KINDS, milestones, type Kind, type NodeView } from './events.js';
import type { DemoMeta, Slot } from './folder.js';
import type { Output } from './output.js';

/** A node's records, running or stopped (readSnapshot). */
export type Snapshot = (state: string) => Promise<{ records: ExperimentRecord[]; shared: SignedRecord[] }>;

/** What watching the demo needs: where the nodes keep their stores, their names, where to print. */
export interface WatchContext {
  snapshot: Snapshot;
  /** How often to look, ms. */
  pollMs: number;
  dir: string;
  slots: readonly Slot[];
  meta: DemoMeta;
  /** Peer id → node name. */
  names: ReadonlyMap<string, string>;
  out: Output;
  /** When the demo started (ms since the epoch). */
  started: number;
}

/** Reads every node's store, leaving out nodes that cannot answer now. */
async function views(ctx: WatchContext): Promise<NodeView[]> {
  const read = ctx.slots.map(async (slot, i): Promise<NodeView | null> => {
    try {
      const { records, shared } = await ctx.snapshot(slot.state);
      return { name: slot.name, peerId: ctx.meta.nodes[i]?.peerId ?? null, records, shared };
    } catch {
      return null;
    }
  });
  return (await Promise.all(read)).filter((v): v is NodeView => v !== null);
}

/** Prints each of share / skip / rebase / replicate the first time a node shows it, until `over`. */
export async function watch(ctx: WatchContext, over: () => boolean): Promise<Set<Kind>> {
  const { out, started } = ctx;
  const seen = new Set<Kind>();
  while (!over() && seen.size < KINDS.length) {
    await sleepUntil(ctx.pollMs, over);
    if (over()) break;
    for (const m of milestones(await views(ctx), ctx.names).sort((a, b) => a.at.localeCompare(b.at))) {
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
export async function report(ctx: WatchContext, seen: ReadonlySet<Kind>, hint: boolean): Promise<void> {
  const { out, started } = ctx;
  const all = await views(ctx);
  const found = milestones(all, ctx.names);
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
  if (missing.length > 0 && hint) out.demo(`not seen yet: ${missing.join(', ')} (let it run longer; \`swarm demo --dir ${ctx.dir}\` resumes)`);
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

