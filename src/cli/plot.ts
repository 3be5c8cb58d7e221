/** `swarm plot`: the progress picture of this node, or of the whole swarm, from its records. */
import type { NodeConfig } from '../config/index.js';
import { checkPlottable, nodeSpec, renderPlot, selfPeer, swarmSpec, type PlotAxis } from '../plot/index.js';
import { readSnapshot } from './records.js';

export interface PlotOptions {
  out: string;
  swarm: boolean;
  by: PlotAxis;
}

/** Draws the picture to `opts.out`; returns the one-line summary to print. */
export async function plot(config: Pick<NodeConfig, 'state' | 'python'>, opts: PlotOptions): Promise<string> {
  const { records, shared, live } = await readSnapshot(config.state);
  const program = live?.swarm?.program ?? shared[0]?.program ?? null;
  const spec = opts.swarm
    ? swarmSpec(shared, { by: opts.by, program, self: selfPeer(shared, records, live?.swarm?.peerId ?? null) })
    : nodeSpec(records, { by: opts.by, program });
  checkPlottable(spec, opts.swarm ? `in the swarm seen from ${config.state}` : `in ${config.state}`);
  const summary = await renderPlot(spec, { out: opts.out, python: config.python });
  return `${summary}; wrote ${opts.out}`;
}
