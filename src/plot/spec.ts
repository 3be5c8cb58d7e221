/**
 * Plot specs: what the progress picture shows, as plain data. Building one is pure (records in,
 * spec out) so tests check what is drawn without reading pixels; progress.py only draws it.
 */
import type { ExperimentRecord } from '../core/index.js';
import type { SignedRecord, SignedResult } from '../p2p/index.js';
import { programLabel } from '../program/index.js';
import { peerTable } from '../swarm/index.js';
import { standings, trustOf } from '../trust/index.js';

/** Only finished runs are points: invalid proposals, skipped duplicates and runs in flight are not. */
export type PointStatus = 'keep' | 'discard' | 'crash';
const POINT_STATUSES: ReadonlySet<ExperimentRecord['status']> = new Set<PointStatus>(['keep', 'discard', 'crash']);

export type PlotAxis = 'experiment' | 'time';

export interface PlotPoint {
  /** Experiment number, or when the run ended (ISO 8601). */
  x: number | string;
  /** val_bpb; null for a crash (drawn apart, at the top edge). */
  y: number | null;
  status: PointStatus;
  /** Index into PlotSpec.series. */
  series: number;
  /** e.g. "#12 raise LR to 0.04"; written beside the point when `annotated`. */
  label: string;
  /** The baseline and the largest wins are labelled (the reference labels every keep; many would pile up). */
  annotated: boolean;
  /** A kept result that peers' replications disputed: drawn hollow, never part of the best line. */
  disputed: boolean;
}

export interface PlotSeries {
  name: string;
  /** This node's own results (highlighted in a swarm plot). */
  self: boolean;
}

export interface PlotSpec {
  v: 1;
  title: string;
  subtitle: string;
  xAxis: PlotAxis;
  xLabel: string;
  yLabel: string;
  series: PlotSeries[];
  points: PlotPoint[];
  /** Best-so-far as step vertices: each y holds from its x to the next vertex's x. */
  best: { x: number | string; y: number }[];
  bestLabel: string;
  /** One node's picture; a swarm's has a series per peer and labels no point. */
  swarm: boolean;
}

export interface SpecOptions {
  by: PlotAxis;
  /** The research program id, when known (a running node or its shared records say it). */
  program: string | null;
}

const LABEL_CHARS = 48;
/** Most labelled points in one node's picture. */
const MAX_LABELS = 16;
const Y_LABEL = 'val_bpb (lower is better)';
const shortPeer = (peer: string) => peer.slice(-8);

/** One node's experiments, from its own records: x is its experiment number (as `swarm show N`). */
export function nodeSpec(records: readonly ExperimentRecord[], opts: SpecOptions): PlotSpec {
  const runs = records.filter(isPoint);
  const ordered = opts.by === 'time' ? [...runs].sort((a, b) => endOf(a).localeCompare(endOf(b))) : runs;
  const points = ordered.map((r): PlotPoint => ({
    x: opts.by === 'time' ? endOf(r) : r.seq, y: r.status === 'crash' ? null : r.metrics!.val_bpb, status: r.status as PointStatus,
    series: 0, label: label(`#${r.seq} ${r.hypothesis}`), annotated: false, disputed: false,
  }));
  annotateWins(points);
  // The node's best is its latest keep (what it builds on), as `swarm status` says.
  const best = stepLine(points, (p) => (p.status === 'keep' ? p.y : null), (_, y) => y);
  const kept = points.filter((p) => p.status === 'keep').length;
  const last = ordered.at(-1);
  return {
    v: 1,
    title: `swarm progress: ${count(points.length, 'experiment')}, ${kept} kept`,
    subtitle: [programText(opts.program), last && budgetText(last), bestText(best)].filter(Boolean).join(' · '),
    xAxis: opts.by, xLabel: opts.by === 'time' ? 'time (UTC)' : 'experiment #', yLabel: Y_LABEL,
    series: [{ name: 'this node', self: true }], points, best, bestLabel: 'best so far', swarm: false,
  };
}

/**
 * Every peer's results from the signed shared records, one series per peer; x numbers the swarm's
 * results in the order they finished. The swarm's best-so-far leaves out disputed results.
 */
export function swarmSpec(shared: readonly SignedRecord[], opts: SpecOptions & { self: string | null }): PlotSpec {
  const trust = standings(shared);
  const results = shared.filter((r): r is SignedResult => r.type === 'result' && (r.status === 'crash' || r.metrics !== null) && !r.imported)
    .sort((a, b) => a.endedAt.localeCompare(b.endedAt) || a.peer.localeCompare(b.peer) || a.seq - b.seq);
  const peers = peerTable(shared);
  const index = new Map(peers.map((p, i) => [p.peer, i]));
  const points = results.map((r, i): PlotPoint => ({
    x: opts.by === 'time' ? r.endedAt : i + 1, y: r.status === 'crash' ? null : r.metrics!.val_bpb, status: r.status,
    series: index.get(r.peer)!, label: label(r.hypothesis), annotated: false,
    disputed: r.status === 'keep' && trustOf(trust, r).standing === 'disputed',
  }));
  const best = stepLine(points, (p) => (p.status === 'keep' && !p.disputed ? p.y : null), (prev, y) => (prev === null ? y : Math.min(prev, y)));
  const kept = points.filter((p) => p.status === 'keep').length;
  return {
    v: 1,
    title: `swarm progress: ${count(points.length, 'experiment')} by ${count(peers.length, 'peer')}, ${kept} kept`,
    subtitle: [programText(opts.program ?? results[0]?.program ?? null), bestText(best)].filter(Boolean).join(' · '),
    xAxis: opts.by, xLabel: opts.by === 'time' ? 'time (UTC)' : 'experiment # across the swarm (in the order they finished)', yLabel: Y_LABEL,
    series: peers.map((p) => ({
      name: `${shortPeer(p.peer)}${p.peer === opts.self ? ' (this node)' : ''}: ${count(p.experiments, 'experiment')}, best ${p.best?.toFixed(4) ?? '-'}`,
      self: p.peer === opts.self,
    })),
    points, best, bestLabel: 'swarm best so far', swarm: true,
  };
}

/** This node's peer id: the running node says it; a stopped one is the peer that shared its experiments. */
export function selfPeer(shared: readonly SignedRecord[], records: readonly ExperimentRecord[], live: string | null): string | null {
  if (live) return live;
  const ours = new Set(records.map((r) => r.id));
  return shared.find((r) => r.type === 'result' && ours.has(r.experiment))?.peer ?? null;
}

/** Marks the first keep (the baseline) and the MAX_LABELS − 1 keeps that lowered the best the most. */
function annotateWins(points: PlotPoint[]): void {
  const kept = points.filter((p) => p.status === 'keep');
  const gains = kept.slice(1).map((p, i) => ({ p, gain: kept[i]!.y! - p.y! }));
  const top = gains.sort((a, b) => b.gain - a.gain).slice(0, MAX_LABELS - 1).map((g) => g.p);
  for (const p of [...kept.slice(0, 1), ...top]) p.annotated = true;
}

/** A run of this program; imported rows (`swarm import`) were measured elsewhere and share no axes with it. */
function isPoint(r: ExperimentRecord): boolean {
  return POINT_STATUSES.has(r.status) && (r.status === 'crash' || r.metrics !== null) && !r.imported;
}

const endOf = (r: ExperimentRecord) => r.endedAt ?? r.startedAt;

/** Step vertices of a best-so-far line: a vertex where the best changes, and one at the last point. */
function stepLine(points: readonly PlotPoint[], candidate: (p: PlotPoint) => number | null, next: (prev: number | null, y: number) => number) {
  const line: { x: number | string; y: number }[] = [];
  let best: number | null = null;
  for (const p of points) {
    const y = candidate(p);
    if (y === null || next(best, y) === best) continue;
    best = next(best, y);
    line.push({ x: p.x, y: best });
  }
  const last = points.at(-1);
  if (best !== null && last && line.at(-1)!.x !== last.x) line.push({ x: last.x, y: best });
  return line;
}

/** Peers' hypotheses are untrusted: one line, bounded (progress.py also turns math parsing off). */
function label(text: string): string {
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return line.length <= LABEL_CHARS ? line : `${line.slice(0, LABEL_CHARS - 1)}…`;
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const programText = (program: string | null) => (program ? `program ${program.slice(0, 8)}` : '');
const bestText = (best: readonly { y: number }[]) => (best.length ? `best ${best.at(-1)!.y.toFixed(6)}` : 'nothing kept yet');

/** "sotu, 150k tokens per run", in the words `swarm join` uses for programs. */
function budgetText(r: ExperimentRecord): string {
  const tokens = r.budgetTokens !== undefined;
  return `${programLabel({ dataset: r.dataset, budgetMode: tokens ? 'tokens' : 'time', budget: r.budgetTokens ?? r.budgetSeconds })} per run`;
}
