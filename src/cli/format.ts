import type { LiveRun, LiveStatus } from '../control/index.js';
import { hardwareLabel, PRINTED_TOLERANCE, printedMismatch, type AgentCall, type ExperimentRecord } from '../core/index.js';
import { latestKeep } from '../loop/index.js';
import type { Direction, ExplorationView } from '../directions/index.js';
import type { LeaderboardClass, PeerEntry } from '../swarm/index.js';

const bpb = (r: ExperimentRecord) => (r.metrics ? r.metrics.val_bpb.toFixed(6) : '-');

/** `swarm log`: one line per experiment. */
export function formatLog(records: readonly ExperimentRecord[]): string {
  const rows = records.map((r) => [
    `#${r.seq}`, r.insideNoise ? 'discard (noise)' : r.status === 'skip' ? 'skip (duplicate)' : r.status, bpb(r), r.commit?.slice(0, 7) ?? '-', r.origin.proposer, truncate(r.hypothesis + (r.reason && r.status !== 'discard' ? ` — ${r.reason}` : ''), 80),
  ]);
  return table(['exp', 'status', 'val_bpb', 'commit', 'proposer', 'hypothesis'], rows);
}

/** `swarm show`: everything about one experiment. */
export function formatRecord(r: ExperimentRecord): string {
  const lines = [
    `experiment #${r.seq}  ${r.id}`,
    `status:      ${r.status}${r.outcome ? ` (run: ${r.outcome})` : ''}`,
    `hypothesis:  ${r.hypothesis}`,
    `proposer:    ${r.origin.proposer} (${r.origin.kind})`,
  ];
  if (r.agent) lines.push(`agent call:  ${agentCall(r.agent)}`);
  if (r.reason) lines.push(`reason:      ${r.reason}`);
  lines.push(
    `commit:      ${r.commit ?? '-'} (parent ${r.parentCommit.slice(0, 12)})`,
    `train.py:    ${r.hash ?? '-'}`,
    `dataset:     ${r.dataset}, budget ${r.budgetTokens !== undefined ? `${r.budgetTokens} tokens` : `${r.budgetSeconds} s`}`,
  );
  if (r.hardware) lines.push(`hardware:    ${hardwareLabel(r.hardware)} (${r.hardware.device}), torch ${r.hardware.torch}`);
  lines.push(`started:     ${r.startedAt}${r.endedAt ? `, ended ${r.endedAt}` : ''}${r.attempts > 1 ? `, ${r.attempts} attempts` : ''}`);
  if (r.bestBefore !== null) {
    const margin = r.margin ? `, to beat by more than ${r.margin.toFixed(6)}${r.insideNoise ? ' (a win inside the noise)' : ''}` : '';
    lines.push(`best before: ${r.bestBefore.toFixed(6)}${margin}`);
  }
  if (r.metrics) {
    lines.push('', '---');
    for (const [k, v] of Object.entries(r.metrics)) lines.push(`${(k + ':').padEnd(18)}${v}`);
    if (r.selfReported) {
      lines.push("(val_bpb self-reported: printed by train.py under a foreign harness, not measured by the node)");
    } else if (r.printedValBpb !== undefined) {
      const printed = r.printedValBpb === null ? 'none' : r.printedValBpb.toFixed(6);
      const flag = printedMismatch(r) ? `  MISMATCH: train.py's own number is off by more than ${PRINTED_TOLERANCE}` : '';
      lines.push(`(val_bpb measured by the harness; train.py printed ${printed} on the dev split${flag})`);
    }
  }
  if (r.diff) lines.push('', r.diff.trimEnd());
  if (r.logTail.length > 0) lines.push('', `last ${r.logTail.length} log lines (${r.logPath ?? ''}):`, ...r.logTail);
  return lines.join('\n');
}

/** A coding agent's call in one line: outcome, time and cost against their caps. */
function agentCall(a: AgentCall): string {
  const cost = a.costUsd === null ? 'cost not reported' : `$${a.costUsd.toFixed(4)}`;
  return `${a.agent} ${a.outcome}, ${a.seconds} s of a ${a.timeoutSeconds} s cap, ${cost}${a.maxCostUsd === null ? '' : ` of a $${a.maxCostUsd} cap`}`;
}

/** `swarm status`: the node at a glance. */
export function formatStatus(
  state: string, records: readonly ExperimentRecord[], live: LiveStatus | null,
  noise: { sigma: number | null; k: number; runs: number; margin: number; afterSeq: number } | null = null,
  exploration: ExplorationView | null = null,
): string {
  // Rows of another run brought in by `swarm import` are history, not this node's experiments.
  const own = records.filter((r) => !r.imported);
  const imported = records.length - own.length;
  const count = (s: string) => own.filter((r) => r.status === s).length;
  const ran = own.filter((r) => r.status !== 'invalid' && r.status !== 'skip').length;
  const notRun = [count('invalid') ? `${count('invalid')} invalid` : '', count('skip') ? `${count('skip')} skipped as duplicates` : ''].filter(Boolean);
  const best = latestKeep(records);
  const baseline = records.find((r) => r.origin.kind === 'baseline' && r.status === 'keep');
  const lines = [
    `state:       ${state}`,
    `node:        ${live ? `running (pid ${live.pid}, since ${live.startedAt})` : 'stopped'}`,
    `experiments: ${ran} (${count('keep')} kept, ${count('discard')} discarded, ${count('crash')} crashed${count('running') ? `, ${count('running')} running` : ''})${notRun.length ? `; not run: ${notRun.join(', ')}` : ''}`,
    ...(imported ? [`imported:    ${imported} rows of another run (swarm import): tried, shared, never this node's best`] : []),
  ];
  if (best?.metrics) {
    const gain = baseline?.metrics && baseline !== best ? ` (${(((best.metrics.val_bpb - baseline.metrics.val_bpb) / baseline.metrics.val_bpb) * 100).toFixed(2)} % vs baseline ${baseline.metrics.val_bpb.toFixed(6)})` : '';
    lines.push(`best:        #${best.seq} val_bpb ${best.metrics.val_bpb.toFixed(6)}${gain} — ${best.hypothesis}`);
  }
  const inside = records.filter((r) => r.insideNoise).length;
  lines.push(noise?.sigma != null
    ? `noise floor: σ ${noise.sigma.toFixed(6)} over ${noise.runs} seeded runs (after #${noise.afterSeq}); keep only wins > ${noise.margin.toFixed(6)} (${noise.k}·σ)${inside ? `; ${inside} win(s) inside the noise discarded` : ''}`
    : 'noise floor: not measured yet');
  if (exploration) lines.push(...explorationLines(exploration));
  if (live) lines.push(...nowLines(live));
  if (live?.next) lines.push(`next:        ${live.next}${live.nextIn === null ? '' : ` (in ~${duration(live.nextIn)})`}`);
  if (live?.swarm) {
    const connected = live.swarm.peers.filter((p) => p.connected).length;
    const dropped = Object.values(live.swarm.dropped).reduce((a, b) => a + b, 0);
    lines.push(
      `swarm:       peer ${live.swarm.peerId}, program ${live.swarm.program}, ${connected} peer(s) connected${dropped ? `, ${dropped} bad message(s) dropped` : ''}`,
      ...live.swarm.addresses.map((a) => `             ${a}`),
    );
  }
  return lines.join('\n');
}

const DIRECTION_ROWS = 8;

/** The plateau line, the directions summary, and the most tried directions as a small table. */
function explorationLines(ex: ExplorationView): string[] {
  const plateau = ex.plateauAfter === 0
    ? `off (${ex.sinceKeep} experiment(s) since the last keep)`
    : ex.plateau
      ? `YES: ${ex.sinceKeep} experiments since the last keep (plateau after ${ex.plateauAfter}): proposing wider steps, combined changes, other directions`
      : `no (${ex.sinceKeep} of ${ex.plateauAfter} experiments since the last keep)`;
  const tried = ex.directions.filter((d) => d.tries > 0);
  const count = (s: Direction['state']) => ex.directions.filter((d) => d.state === s).length;
  const lines = [
    `plateau:     ${plateau}`,
    `directions:  ${tried.length} tried in the swarm (${count('saturated')} saturated, ${count('crowded')} being run now), ${count('open')} open${ex.open.length ? `: ${truncate(ex.open.join(', '), 80)}` : ''}`,
  ];
  if (tried.length === 0) return lines;
  const rows = ex.directions.filter((d) => d.tries > 0 || d.running.length > 0).slice(0, DIRECTION_ROWS).map((d) => [
    d.key, d.category, d.state, String(d.tries), String(d.keeps), d.bestGain === null ? '-' : d.bestGain.toFixed(6), String(d.nodes),
    d.running.map((w) => (w === 'self' ? 'this node' : w.slice(-12))).join(' ') || '-',
  ]);
  const shown = table(['direction', 'category', 'state', 'tries', 'kept', 'best gain', 'nodes', 'running now'], rows).split('\n').map((l) => `             ${l}`);
  return [...lines, ...shown];
}

/** `swarm leaderboard`: a ranking per hardware class, each entry with its standing. */
export function formatLeaderboard(board: readonly LeaderboardClass[]): string {
  if (board.length === 0) return 'no kept results in the swarm yet';
  return board.map((c) => [
    `${c.hardware} (${c.kept} kept)`,
    table(['#', 'val_bpb', 'standing', 'peer', 'experiment', 'when', 'hypothesis'], c.entries.map((e) => [
      String(e.rank), e.val_bpb.toFixed(6), standingText(e), e.peer.slice(-12), e.experiment, e.endedAt.slice(0, 19), truncate(e.hypothesis, 60),
    ])),
  ].join('\n')).join('\n\n');
}

/** The standing, its votes, and `self-reported` where a foreign harness's run printed the number itself. */
function standingText(e: { standing: string; confirmations: number; disputes: number; selfReported?: boolean }): string {
  const votes = e.confirmations + e.disputes;
  const standing = votes === 0 ? e.standing : `${e.standing} ${e.confirmations}✓ ${e.disputes}✗`;
  return e.selfReported ? `${standing}, self-reported` : standing;
}

/** `swarm peers`. */
export function formatPeers(rows: readonly (PeerEntry & { self: boolean; connected: boolean })[]): string {
  if (rows.length === 0) return 'no peer has shared results yet';
  return table(['peer', 'state', 'experiments', 'kept', 'crashed', 'best', 'σ', 'verified', 'disputed', 'score'], rows.map((p) => [
    p.peer, p.self ? 'this node' : p.connected ? 'connected' : 'seen', String(p.experiments), String(p.kept), String(p.crashed), p.best?.toFixed(6) ?? '-',
    p.sigma?.toFixed(6) ?? '-', String(p.verified), String(p.disputed), String(p.score),
  ]));
}

/** One `now:` line for the run in flight, or one per worker when the node has several. */
function nowLines(live: LiveStatus): string[] {
  // A node from before workers sends no list.
  const workers = live.workers as LiveStatus['workers'] | undefined;
  if (!workers || workers.length <= 1) return [`now:         ${live.current ? liveLine(live.current) : 'preparing the next run'}`];
  return workers.map((w) => `now:         worker ${w.worker} (${w.device}): ${w.current ? liveLine(w.current) : 'preparing its next run'}`);
}

/** Every busy worker in one line, for a terminal's live line: "w0 #12 45 % loss 3.1021 · w1 noise run 1 of 2 starting, 4 s". */
export function workersLine(workers: LiveStatus['workers']): string | null {
  const busy = workers.filter((w) => w.current !== null);
  if (busy.length === 0) return null;
  if (workers.length === 1) return liveLine(busy[0]!.current!);
  return busy.map((w) => {
    const c = w.current!;
    const what = c.seq !== null ? `#${c.seq}` : truncate(c.hypothesis, 40);
    const done = c.step === null ? `starting, ${c.wallSeconds} s` : c.fraction !== null ? `${Math.round(c.fraction * 100)} %` : `${Math.floor(c.elapsedSeconds)} s`;
    return `w${w.worker} ${what} ${done}${c.loss === null ? '' : ` loss ${c.loss.toFixed(4)}`}`;
  }).join(' · ');
}

/** The run in flight in one line: what it is, how far along, its loss. */
export function liveLine(c: LiveRun): string {
  const what = c.seq !== null ? `#${c.seq} ${truncate(c.hypothesis, 50)}` : truncate(c.hypothesis, 60);
  const done = c.fraction !== null ? `${Math.round(c.fraction * 100)} % of a ${c.budget} budget` : `${Math.floor(c.elapsedSeconds)} s of a ${c.budget} budget`;
  const phase = c.step === null ? `starting, ${c.wallSeconds} s` : done;
  const loss = c.loss === null ? '' : ` | step ${c.step} loss ${c.loss.toFixed(4)}`;
  return `${what} | ${phase}${loss}`;
}

/** "40 s", "3 min": a rough duration. */
function duration(seconds: number): string {
  return seconds < 90 ? `${Math.max(5, Math.round(seconds / 5) * 5)} s` : `${Math.round(seconds / 60)} min`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '…';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
