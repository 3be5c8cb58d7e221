/**
 * The live side: server-sent events to open pages, the feed of swarm events and the loss curve of
 * each worker's run in flight. Loop events arrive through source.subscribe; the snapshot is also polled
 * while a page is open, because peers' results and a polled node's progress come no other way.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ExperimentRecord, Logger } from '../core/index.js';
import type { LoopEvent } from '../loop/index.js';
import type { DashboardEvent, DashboardSnapshot, DashboardSource, FeedEntry } from './types.js';
import { liveWorkers, selfPeer, signedRecords, type ProgressPoint, type WorkerCurve } from './view.js';

const FEED_SIZE = 200;
const PROGRESS_POINTS = 4000;
const MAX_CLIENTS = 16;
const HEARTBEAT_MS = 20_000;
/** A page that stops reading is dropped before its unsent events pile up. */
const MAX_BUFFERED = 1024 * 1024;

const bpb = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(6) : '-');
const short = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function finishLine(r: Pick<ExperimentRecord, 'seq' | 'status' | 'hypothesis' | 'reason' | 'metrics'>): string {
  const why = r.reason && r.status !== 'keep' ? ` (${short(r.reason, 80)})` : '';
  if (r.status === 'skip') return `#${r.seq} skipped — ${short(r.hypothesis)}${why}`;
  return `#${r.seq} ${r.status} ${bpb(r.metrics?.val_bpb)} — ${short(r.hypothesis)}${why}`;
}

/** A loop event as sent to pages: records are cut down to what the page shows live. */
function loopMessage(e: LoopEvent): unknown {
  if (e.type !== 'start' && e.type !== 'finish') return e;
  const r = e.record;
  return { type: e.type, worker: e.worker, id: r.id, seq: r.seq, status: r.status, hypothesis: r.hypothesis, val_bpb: r.metrics?.val_bpb ?? null };
}

/**
 * A feed line for loop events the node's log does not already tell: a finished experiment, a
 * finished replication. (Starts, skips and noise runs come as log lines.)
 */
function eventLine(e: LoopEvent): FeedEntry | null {
  const at = new Date().toISOString();
  if (e.type === 'finish' && e.record.status !== 'skip') return { at, level: e.record.status === 'crash' ? 'warn' : 'info', message: finishLine(e.record) };
  if (e.type === 'ran' && e.kind === 'replication') return { at, level: e.outcome === 'ok' ? 'info' : 'warn', message: `${e.label}: ${e.outcome}, measured ${bpb(e.valBpb)}` };
  return null;
}

export class LiveHub {
  readonly feed: FeedEntry[] = [];
  /** Each worker's loss curve, and which run it belongs to (polled nodes only). */
  private readonly curves = new Map<number, { key: string | null; points: ProgressPoint[] }>();
  private readonly clients = new Set<ServerResponse>();
  private readonly unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastHash = '';
  private seen: Set<string> | null = null;
  private lastError = '';

  constructor(private readonly source: DashboardSource, private readonly pollMs: number, private readonly log: Logger) {
    this.unsubscribe = source.subscribe?.((e) => this.onEvent(e));
  }

  /** The loss curve of every worker that has one, by worker. */
  get progress(): WorkerCurve[] {
    return [...this.curves].sort(([a], [b]) => a - b).map(([worker, c]) => ({ worker, points: c.points }));
  }

  /** Opens an event stream; false when too many are open already. */
  attach(res: ServerResponse): boolean {
    if (this.clients.size >= MAX_CLIENTS) return false;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 3000\n\n');
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopPolling();
    });
    if (this.clients.size === 1) this.startPolling();
    return true;
  }

  close(): void {
    this.unsubscribe?.();
    this.stopPolling();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  /** One SSE message; JSON never holds a raw newline, so data cannot break out of its event. */
  private send(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) res.destroy();
      else res.write(frame);
    }
  }

  private addFeed(entry: FeedEntry): void {
    this.feed.push(entry);
    if (this.feed.length > FEED_SIZE) this.feed.splice(0, this.feed.length - FEED_SIZE);
    this.send('log', entry);
  }

  private resetProgress(worker: number, key: string | null): void {
    this.curves.set(worker, { key, points: [] });
  }

  private addPoint(worker: number, p: ProgressPoint): void {
    const curve = this.curves.get(worker) ?? { key: null, points: [] };
    this.curves.set(worker, curve);
    if (curve.points.at(-1)?.step === p.step) return;
    curve.points.push(p);
    // A very long run keeps its shape: every other point goes when the curve is full.
    if (curve.points.length > PROGRESS_POINTS) curve.points = curve.points.filter((_, i) => i % 2 === 0);
  }

  private onEvent(e: DashboardEvent): void {
    if (e.type === 'log') return this.addFeed({ at: e.at, level: e.level, message: e.message });
    const ev = e.event;
    if (ev.type === 'start' || ev.type === 'run') this.resetProgress(ev.worker, null);
    if (ev.type === 'progress') this.addPoint(ev.worker, { step: ev.step, loss: ev.loss, elapsedSeconds: ev.elapsedSeconds });
    const line = eventLine(ev);
    if (line) this.addFeed(line);
    this.send('loop', loopMessage(ev));
    if (ev.type !== 'progress') this.send('update', { reason: ev.type });
  }

  private startPolling(): void {
    const tick = () => {
      void this.poll().finally(() => {
        if (this.clients.size > 0) this.timer = setTimeout(tick, this.pollMs);
      });
    };
    tick();
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) res.write(': ping\n\n');
    }, HEARTBEAT_MS);
  }

  private stopPolling(): void {
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    this.timer = undefined;
    this.heartbeat = undefined;
  }

  private async poll(): Promise<void> {
    let snap: DashboardSnapshot;
    try {
      snap = await this.source.snapshot();
    } catch (err) {
      const message = `dashboard: cannot read the node: ${(err as Error).message}`;
      if (message !== this.lastError) this.addFeed({ at: new Date().toISOString(), level: 'warn', message });
      this.lastError = message;
      return;
    }
    this.lastError = '';
    if (!this.source.subscribe) this.followPolled(snap);
    this.feedChanges(snap);
    const hash = createHash('sha256').update(JSON.stringify(snap)).digest('hex');
    if (hash !== this.lastHash && this.lastHash !== '') this.send('update', { reason: 'snapshot' });
    this.lastHash = hash;
  }

  /** A polled node sends no progress events: each worker's curve grows from the snapshots. */
  private followPolled(snap: DashboardSnapshot): void {
    for (const { worker, current: cur } of liveWorkers(snap.live)) {
      if (!cur || cur.step === null || cur.loss === null) continue;
      const key = `${cur.kind}:${cur.seq}:${cur.hypothesis}`;
      if (key !== this.curves.get(worker)?.key) this.resetProgress(worker, key);
      this.addPoint(worker, { step: cur.step, loss: cur.loss, elapsedSeconds: cur.elapsedSeconds });
    }
  }

  /** Feed lines for results that appeared since the last poll: peers' always, ours when no loop events come. */
  private feedChanges(snap: DashboardSnapshot): void {
    const shared = signedRecords(snap.shared);
    const self = selfPeer(snap, shared);
    const lines: FeedEntry[] = [];
    const keys = new Set<string>();
    const at = new Date().toISOString();
    for (const r of snap.records) {
      const key = `own:${r.id}:${r.status}`;
      keys.add(key);
      if (!this.source.subscribe && r.status !== 'running' && !this.seen?.has(key) && this.seen) lines.push({ at, level: r.status === 'crash' ? 'warn' : 'info', message: finishLine(r) });
    }
    for (const r of shared) {
      if (r.type !== 'result' || r.peer === self) continue;
      const key = `peer:${r.peer}:${r.experiment}`;
      keys.add(key);
      if (this.seen && !this.seen.has(key)) {
        lines.push({ at, level: 'info', message: `peer ${r.peer.slice(-8)}: ${r.status} ${bpb(r.metrics?.val_bpb)} — ${short(r.hypothesis)}` });
      }
    }
    this.seen = keys;
    for (const l of lines) this.addFeed(l);
  }
}
