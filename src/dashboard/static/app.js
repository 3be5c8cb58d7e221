// swarm dashboard page. Plain browser JavaScript, no build step.
//
// Every string shown here may come from a hostile peer (hypotheses, reasons, ids, diffs, log
// lines). It is only ever put on the page as text: through el() below, textContent, or
// attributes that are never interpreted as markup. innerHTML is not used anywhere.
'use strict';

const COLORS = { keep: '#3fb950', discard: '#8b949e', crash: '#f85149', best: '#3fb950', grid: '#21262d', axis: '#8b949e', loss: '#58a6ff', bg: '#161b22' };
const PLOTTED = new Set(['keep', 'discard', 'crash']);
/** One colour per worker, for its loss curve and its row (app.css .swatch.cN). */
const WORKER_COLORS = ['#58a6ff', '#d2a8ff', '#f0883e', '#3fb950', '#ff7b72', '#e3b341', '#79c0ff', '#56d364'];
const colorIndex = (worker) => worker % WORKER_COLORS.length;
/** Tick spacings for axes that count (experiments, steps): never a half. */
const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

const state = {
  snap: null,
  scope: 'node', // 'node' | 'swarm'
  xMode: 'seq', // 'seq' | 'time'
  peer: '', // swarm scope: '' = every peer
  curves: new Map(), // worker → live loss points of its run in flight (or its last run)
  chart: null,
  lossChart: null,
  lossKey: '', // the workers whose curves the loss chart draws, e.g. "0,1"
  pointIds: [], // experiment id of each x index of the progress chart
  pointRows: [],
  chartKey: '',
};

// ---------------------------------------------------------------------------------------------
// DOM helpers: text only

/** Creates an element; children are nodes or strings (added as text nodes, never parsed). */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'className' || key === 'title' || key === 'href' || key === 'hidden') node[key] = value;
    else if (key.startsWith('data-')) node.setAttribute(key, String(value));
    else if (key === 'onclick') node.addEventListener('click', value);
    else throw new Error(`el(): unexpected property ${key}`);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (id) => document.getElementById(id);
const setText = (id, text) => { $(id).textContent = text === null || text === undefined ? '' : String(text); };
const fmt = (v, digits = 6) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');
const shortId = (id) => (typeof id === 'string' && id.length > 14 ? `…${id.slice(-10)}` : String(id ?? '–'));
const badge = (text, cls) => el('span', { className: `badge ${cls || text}` }, text);
const expHref = (id) => `#/exp/${encodeURIComponent(id)}`;

function ago(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '–';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

function clock(iso) {
  const d = new Date(iso);
  return Number.isFinite(d.getTime()) ? d.toLocaleTimeString([], { hour12: false }) : '';
}

function statusLabel(r) {
  if (r.status === 'skip') return 'skipped';
  if (r.status === 'discard' && r.insideNoise) return 'discard (noise)';
  return r.status;
}

// ---------------------------------------------------------------------------------------------
// Data

async function getJson(path) {
  const res = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

let fetching = null;
let again = false;
/** Refetches the snapshot; calls that come while one is in flight fold into one more fetch. */
function refresh() {
  if (fetching) { again = true; return fetching; }
  fetching = getJson('/api/snapshot')
    .then((snap) => {
      state.snap = snap;
      const workers = snap.workers || [];
      state.curves = new Map(workers.length ? workers.map((w) => [w.worker, w.progress || []]) : [[0, snap.progress || []]]);
      renderOverview();
    })
    .catch((err) => setConn('offline', err.message))
    .finally(() => {
      fetching = null;
      if (again) { again = false; refresh(); }
    });
  return fetching;
}

/** The points of the progress chart: this node's experiments, or the swarm's results. */
function chartRows() {
  const s = state.snap;
  if (state.scope === 'node') {
    return s.records.filter((r) => PLOTTED.has(r.status)).map((r) => ({
      id: r.id, label: `#${r.seq}`, status: r.status, val: r.val_bpb, time: Date.parse(r.endedAt || r.startedAt) / 1000, hypothesis: r.hypothesis, seq: r.seq,
    })).sort((a, b) => a.seq - b.seq);
  }
  const rows = s.results
    .filter((r) => PLOTTED.has(r.status) && (!state.peer || r.peer === state.peer))
    .map((r) => ({ id: r.experiment, label: shortId(r.peer), status: r.status, val: r.val_bpb, time: Date.parse(r.endedAt) / 1000, hypothesis: r.hypothesis, disputed: r.standing === 'disputed' }))
    .sort((a, b) => a.time - b.time);
  rows.forEach((r, i) => { r.seq = i + 1; });
  return rows;
}

/**
 * A value the charts can draw: finite and within the protocol's bound on metrics (±1e15, as
 * src/p2p/records.ts checks peers' results). Beyond it (±1e308 from a run's own output) uPlot's
 * range overflows to Infinity and the whole chart goes blank.
 */
const PLOT_LIMIT = 1e15;
const plottable = (v) => (typeof v === 'number' && Number.isFinite(v) ? Math.max(-PLOT_LIMIT, Math.min(PLOT_LIMIT, v)) : null);

/** uPlot's columns: x, kept, discarded, crashed (drawn at the top), best so far. */
function chartData(rows) {
  // A loop, not Math.max(...vals): spreading some 150 000 values (a swarm's results) overflows the stack.
  let hi = -Infinity, lo = Infinity;
  for (const r of rows) {
    const v = plottable(r.val);
    if (v !== null && v > hi) hi = v;
    if (v !== null && v < lo) lo = v;
  }
  if (hi === -Infinity) { hi = 1; lo = 0; }
  const top = hi + Math.max((hi - lo) * 0.08, 0.002);
  const x = [], keep = [], discard = [], crash = [], best = [];
  let bestSoFar = null;
  for (const r of rows) {
    x.push(state.xMode === 'time' ? r.time : r.seq);
    const v = plottable(r.val);
    keep.push(r.status === 'keep' ? v : null);
    discard.push(r.status === 'discard' ? v : null);
    crash.push(r.status === 'crash' ? top : null);
    // A result that replications disputed is drawn but never becomes the best.
    if (r.status === 'keep' && !r.disputed && v !== null && (bestSoFar === null || v < bestSoFar)) bestSoFar = v;
    best.push(bestSoFar);
  }
  return [x, keep, discard, crash, best];
}

// ---------------------------------------------------------------------------------------------
// Charts (uPlot)

const axis = (label) => ({
  label, stroke: COLORS.axis, labelFont: '12px system-ui', font: '11px ui-monospace, monospace',
  grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid, width: 1 },
});
const pointSeries = (label, color, size, hollow) => ({
  label, stroke: color, fill: color, width: 0, paths: () => null,
  points: { show: true, size, width: hollow ? 2 : 1, stroke: color, fill: hollow ? COLORS.bg : color },
});

function chartOptions(width) {
  return {
    width, height: 340,
    legend: { show: false },
    scales: { x: { time: state.xMode === 'time' } },
    cursor: { focus: { prox: 24 }, points: { size: 10 } },
    axes: [
      state.xMode === 'time' ? axis('time') : { ...axis('experiment'), incrs: INTEGER_STEPS, values: (u, ticks) => ticks.map(String) },
      { ...axis('val_bpb (lower is better)'), size: 70, values: (u, ticks) => ticks.map((t) => t.toFixed(3)) },
    ],
    series: [
      {},
      pointSeries('kept', COLORS.keep, 9),
      pointSeries('discarded', COLORS.discard, 6),
      pointSeries('crashed', COLORS.crash, 8, true),
      { label: 'best so far', stroke: COLORS.best, width: 2, spanGaps: true, points: { show: false }, paths: uPlot.paths.stepped({ align: 1 }) },
    ],
    hooks: { setCursor: [(u) => showHover(u.cursor.idx)] },
  };
}

function showHover(idx) {
  const r = idx === null || idx === undefined ? null : state.pointRows[idx];
  setText('hover', r ? `${r.label} · ${statusLabel(r)}${r.disputed ? ' (disputed)' : ''} · ${fmt(r.val)} · ${r.hypothesis}` : 'hover a point; click it to open the experiment');
}

function renderChart() {
  const box = $('chart');
  const rows = chartRows();
  state.pointRows = rows;
  state.pointIds = rows.map((r) => r.id);
  box.dataset.points = String(rows.length);
  box.dataset.scope = state.scope;
  const data = chartData(rows);
  const width = Math.max(320, box.clientWidth);
  // Redrawn only when what it shows changed: a redraw would drop the reader's zoom and hover.
  const key = JSON.stringify([state.scope, state.xMode, state.peer, width, data]);
  if (key === state.chartKey) return;
  state.chartKey = key;
  // Options depend on the x mode; recreating the chart is cheap at this size.
  if (state.chart) state.chart.destroy();
  box.textContent = '';
  if (rows.length === 0) {
    box.append(el('p', { className: 'empty' }, state.scope === 'node' ? 'No finished experiment yet: the first point appears when the baseline finishes.' : 'No shared results yet.'));
    state.chart = null;
    return;
  }
  state.chart = new uPlot(chartOptions(width), data, box);
  state.chart.over.addEventListener('click', () => {
    const idx = state.chart.cursor.idx;
    if (idx !== null && idx !== undefined && state.pointIds[idx]) location.hash = expHref(state.pointIds[idx]);
  });
}

/** The loss curves to draw: the one run's, or every worker's that has points (several workers). */
function shownCurves() {
  const workers = workersOf();
  if (workers.length <= 1) {
    const w = workers.length ? workers[0].worker : 0;
    return [{ worker: w, points: state.curves.get(w) || [] }];
  }
  return [...state.curves].filter(([, pts]) => pts.length > 0).sort(([a], [b]) => a - b).map(([worker, points]) => ({ worker, points }));
}

/** uPlot's columns: steps, then one loss column per curve (several curves are joined on their steps). */
function lossData(curves) {
  // The loss is what the run under test prints (parsed from its output): anything may come.
  const tables = curves.map((c) => {
    const pts = curves.length > 1 ? [...c.points].sort((a, b) => a.step - b.step) : c.points;
    return [pts.map((p) => p.step), pts.map((p) => plottable(p.loss))];
  });
  return tables.length === 1 ? tables[0] : uPlot.join(tables);
}

function renderLossChart() {
  const box = $('loss-chart');
  const curves = shownCurves();
  const total = curves.reduce((n, c) => n + c.points.length, 0);
  box.dataset.points = String(total);
  box.dataset.series = String(curves.length);
  const key = curves.map((c) => c.worker).join(',');
  if (state.lossChart && total > 0 && key === state.lossKey) { state.lossChart.setData(lossData(curves)); return; }
  if (state.lossChart) { state.lossChart.destroy(); state.lossChart = null; }
  box.textContent = '';
  if (total === 0) { box.append(el('p', { className: 'empty' }, 'The loss curve appears when the run reports progress.')); return; }
  state.lossKey = key;
  const several = curves.length > 1;
  state.lossChart = new uPlot({
    width: Math.max(240, box.clientWidth), height: 170, legend: { show: false }, cursor: { show: false },
    scales: { x: { time: false } },
    axes: [{ ...axis('step'), incrs: INTEGER_STEPS, values: (u, t) => t.map(String) }, { ...axis('train loss'), size: 52, values: (u, t) => t.map((v) => v.toFixed(2)) }],
    series: [{}, ...curves.map((c) => ({
      label: several ? `worker ${c.worker}` : 'loss', stroke: several ? WORKER_COLORS[colorIndex(c.worker)] : COLORS.loss, width: 1.5, spanGaps: true, points: { show: false },
    }))],
  }, lossData(curves), box);
}

// ---------------------------------------------------------------------------------------------
// Overview

function stat(k, v, s) {
  return el('div', { className: 'stat' }, el('div', { className: 'k' }, k), el('div', { className: 'v' }, v), el('div', { className: 's', title: s || '' }, s || ''));
}

function renderStats() {
  const s = state.snap;
  const exps = s.records.filter((r) => r.status !== 'skip' && r.status !== 'running');
  const count = (st) => s.records.filter((r) => r.status === st).length;
  const kept = s.records.filter((r) => r.status === 'keep' && typeof r.val_bpb === 'number');
  const best = kept.length ? kept.reduce((a, b) => (b.val_bpb < a.val_bpb ? b : a)) : null;
  const base = kept.find((r) => r.origin === 'baseline');
  const ratio = best && base && best !== base ? ((best.val_bpb - base.val_bpb) / base.val_bpb) * 100 : null;
  const gain = ratio !== null && Number.isFinite(ratio) ? `${ratio.toFixed(2)} % vs baseline` : best ? best.hypothesis : '';
  const floor = s.noise.length ? s.noise[s.noise.length - 1] : null;
  const others = s.peers.filter((p) => !p.self);
  $('stats').replaceChildren(
    stat('experiments', String(exps.length), `${count('keep')} kept · ${count('discard')} discarded · ${count('crash')} crashed · ${count('skip')} skipped`),
    stat('best val_bpb', best ? fmt(best.val_bpb) : '–', best ? `#${best.seq} · ${gain}` : 'no kept result yet'),
    stat('noise floor σ', floor && floor.sigma !== null ? fmt(floor.sigma) : '–', floor ? `${floor.runs} seeded runs · keep wins > ${floor.k}σ` : 'not measured yet'),
    stat('peers', String(others.length), `${others.filter((p) => p.connected).length} connected · ${s.results.length} shared results`),
  );
}

function liveFraction(cur) {
  if (typeof cur.fraction === 'number') return cur.fraction;
  if (typeof cur.expectedSeconds === 'number' && cur.expectedSeconds > 0) return cur.elapsedSeconds / cur.expectedSeconds;
  const secs = /^(\d+(?:\.\d+)?)\s*s$/.exec(cur.budget || '');
  return secs ? cur.elapsedSeconds / Number(secs[1]) : null;
}

/** The running node's workers (none when it is stopped). */
const workersOf = () => (state.snap && Array.isArray(state.snap.workers) ? state.snap.workers : []);

/** How far a run is, in words: "15 s running · 12 s trained · budget 200k tokens · 40 % · step 40 · loss 3.1000". */
function runDetail(cur, f) {
  // Wall time counts start-up and evaluation too; training time is what the budget measures.
  const wall = typeof cur.wallSeconds === 'number' ? `${Math.round(cur.wallSeconds)} s running · ` : '';
  const parts = [`${wall}${Math.round(cur.elapsedSeconds)} s trained`, `budget ${cur.budget}`];
  if (f !== null) parts.push(`${Math.round(Math.min(1, f) * 100)} %`);
  if (cur.step !== null && cur.step !== undefined) parts.push(`step ${cur.step}`);
  if (typeof cur.loss === 'number') parts.push(`loss ${cur.loss.toFixed(4)}`);
  return parts.join(' · ');
}

const barWidth = (f) => (f === null ? '0' : `${Math.min(100, Math.max(0, f * 100)).toFixed(1)}%`);
const runLabel = (cur) => { const kind = cur.kind || 'experiment'; return cur.seq !== null && cur.seq !== undefined ? `${kind} #${cur.seq}` : kind; };

function renderSingle(live, cur) {
  if (!cur) {
    setText('live-kind', live ? 'between runs' : 'stopped');
    $('live-kind').className = 'badge';
    setText('live-hypothesis', live ? 'Drafting the next candidate.' : 'The node is not running: this page shows its store.');
    $('live-bar').style.width = '0';
    setText('live-detail', '');
  } else {
    setText('live-kind', runLabel(cur));
    $('live-kind').className = `badge ${cur.kind || 'experiment'}`;
    setText('live-hypothesis', cur.hypothesis);
    const f = liveFraction(cur);
    $('live-bar').style.width = barWidth(f);
    setText('live-detail', runDetail(cur, f));
  }
  // Nothing in flight: no empty bar either.
  $('live-bar').parentElement.hidden = !cur;
}

/** One row per worker: its device, what it runs and how far along, in its curve's colour. */
function workerRow(w) {
  const cur = w.current;
  const head = el('div', { className: 'head' }, el('i', { className: `swatch c${colorIndex(w.worker)}` }), `worker ${w.worker} · ${w.device}`,
    cur ? badge(runLabel(cur), cur.kind || 'experiment') : badge('idle', 'idle'));
  if (!cur) return el('li', { className: 'idle', 'data-worker': w.worker }, head, el('p', { className: 'hypothesis' }, 'drafting its next run'));
  const f = liveFraction(cur);
  const bar = el('div', { className: 'bar' });
  bar.style.width = barWidth(f);
  return el('li', { 'data-worker': w.worker, 'data-busy': '1' }, head, el('p', { className: 'hypothesis' }, cur.hypothesis),
    el('div', { className: 'progress' }, bar), el('p', { className: 'muted small detail' }, runDetail(cur, f)));
}

function renderLive() {
  const live = state.snap.live;
  const workers = workersOf();
  const several = workers.length > 1;
  $('live-single').hidden = several;
  $('live-workers').hidden = !several;
  if (several) {
    const busy = workers.filter((w) => w.current).length;
    setText('live-kind', `${busy} of ${workers.length} workers busy`);
    $('live-kind').className = 'badge';
    $('live-workers').replaceChildren(...workers.map(workerRow));
  } else {
    $('live-workers').textContent = '';
    renderSingle(live, live && live.current);
  }
  setText('live-next', live && live.next ? `next: ${live.next}${typeof live.nextIn === 'number' ? ` (in ~${Math.max(5, Math.round(live.nextIn / 5) * 5)} s)` : ''}` : '');
  // Nothing in flight and no curve to show: no empty chart.
  const running = several ? workers.some((w) => w.current) : Boolean(live && live.current);
  $('loss-chart').hidden = !running && shownCurves().every((c) => c.points.length === 0);
  renderLossChart();
}

function renderLeaderboard() {
  const box = $('leaderboard');
  const classes = state.snap.leaderboard;
  if (!classes.length) { box.replaceChildren(el('p', { className: 'empty' }, 'No kept result shared yet.')); return; }
  const parts = [];
  for (const c of classes) {
    parts.push(el('div', { className: 'class-head' }, el('strong', {}, c.hardware), el('span', { className: 'muted small' }, `${c.kept} kept result(s)`)));
    const rows = c.entries.map((e) => el('tr', { className: 'link', onclick: () => { location.hash = expHref(e.experiment); } },
      el('td', { className: 'num' }, String(e.rank)),
      el('td', { className: 'num' }, fmt(e.val_bpb)),
      el('td', {}, badge(e.standing), e.selfReported && el('span', { title: "a foreign harness: the run's own printed val_bpb" }, ' ', badge('self-reported', 'muted'))),
      el('td', { className: 'num', title: 'confirmations / disputes' }, `${e.confirmations} / ${e.disputes}`),
      el('td', { title: e.peer }, el('code', {}, shortId(e.peer))),
      el('td', { className: 'text' }, e.hypothesis),
      el('td', {}, e.proposer),
    ));
    parts.push(el('table', { className: 'table' },
      el('thead', {}, el('tr', {}, ['#', 'val_bpb', 'standing', '✓ / ✗', 'peer', 'hypothesis', 'proposer'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows)));
  }
  box.replaceChildren(...parts);
}

function renderExperiments() {
  const records = [...state.snap.records].sort((a, b) => b.seq - a.seq || b.startedAt.localeCompare(a.startedAt)).slice(0, 300);
  const rows = records.map((r) => {
    const skipped = r.status === 'skip';
    const delta = typeof r.val_bpb === 'number' && typeof r.bestBefore === 'number' ? r.val_bpb - r.bestBefore : null;
    const why = r.reason && r.status !== 'keep' && r.status !== 'discard' ? el('div', { className: 'muted small' }, r.reason) : null;
    return el('tr', { className: skipped ? 'skipped' : '', 'data-id': r.id, 'data-status': r.status, onclick: () => { location.hash = expHref(r.id); } },
      el('td', { className: 'num' }, skipped ? '–' : `#${r.seq}`),
      el('td', {}, badge(statusLabel(r), r.status)),
      el('td', { className: 'num' }, fmt(r.val_bpb)),
      el('td', { className: `num ${delta === null ? '' : delta < 0 ? 'better' : 'worse'}` }, delta === null ? '' : `${delta < 0 ? '' : '+'}${delta.toFixed(4)}`),
      el('td', { className: 'text' }, r.hypothesis, why),
      el('td', {}, r.proposer),
    );
  });
  $('experiments').tBodies[0].replaceChildren(...rows);
  const skips = state.snap.records.filter((r) => r.status === 'skip').length;
  const n = state.snap.records.length - skips;
  setText('exp-count', `${n} experiment${n === 1 ? '' : 's'}${skips ? `, ${skips} skipped duplicate${skips === 1 ? '' : 's'} (not plotted)` : ''}`);
}

function renderPeers() {
  const rows = state.snap.peers.map((p) => el('tr', {},
    el('td', { title: p.peer }, el('span', { className: `peer-dot${p.connected || p.self ? ' on' : ''}` }), el('code', {}, shortId(p.peer)), p.self ? el('span', { className: 'you' }, 'you') : null),
    el('td', { className: 'num' }, String(p.experiments)),
    el('td', { className: 'num' }, String(p.kept)),
    el('td', { className: 'num' }, String(p.crashed)),
    el('td', { className: 'num' }, fmt(p.best)),
    el('td', { className: 'num' }, fmt(p.sigma, 4)),
    el('td', { className: 'num' }, String(p.score)),
    el('td', { className: 'num' }, String(p.verified)),
    el('td', { className: `num${p.disputed ? ' bad' : ''}` }, String(p.disputed)),
    el('td', { title: p.program || '' }, el('code', {}, p.program ? p.program.slice(0, 12) : '–')),
    el('td', {}, p.lastSeen ? ago(p.lastSeen) : '–'),
  ));
  $('peers').tBodies[0].replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { className: 'empty' }, 'No peer seen yet.'))]));
  const select = $('peer-filter');
  const current = state.peer;
  select.replaceChildren(el('option', {}, 'every peer'), ...state.snap.peers.map((p) => {
    const o = el('option', {}, `${shortId(p.peer)}${p.self ? ' (this node)' : ''}`);
    o.value = p.peer;
    return o;
  }));
  select.firstChild.value = '';
  select.value = current;
}

/** Rows of the directions table: tried or running ones (the open ones are listed below it). */
function renderDirections() {
  const ex = state.snap.exploration;
  const plateau = $('plateau');
  plateau.className = `badge ${ex && ex.plateau ? 'plateau' : 'active'}`;
  plateau.textContent = !ex ? '' : ex.plateauAfter === 0 ? 'plateau detection off'
    : ex.plateau ? `plateau: ${ex.sinceKeep} experiments without a keep` : `${ex.sinceKeep} of ${ex.plateauAfter} experiments without a keep`;
  const shown = ex ? ex.directions.filter((d) => d.tries > 0 || d.running.length > 0) : [];
  const rows = shown.map((d) => el('tr', { 'data-key': d.key, 'data-state': d.state },
    el('td', {}, el('code', {}, d.key)),
    el('td', {}, d.category),
    el('td', {}, badge(d.state)),
    el('td', { className: 'num' }, String(d.tries)),
    el('td', { className: 'num' }, String(d.keeps)),
    el('td', { className: 'num' }, d.bestGain === null ? '–' : fmt(d.bestGain)),
    el('td', { className: 'num' }, String(d.nodes)),
    el('td', {}, d.running.map((w) => (w === 'self' ? 'this node' : shortId(w))).join(', ') || '–'),
  ));
  $('directions').tBodies[0].replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { className: 'empty' }, 'No direction tried yet.'))]));
  const open = ex ? ex.open : [];
  const cats = ex ? ex.openCategories : [];
  setText('directions-open', [
    open.length ? `open: ${open.join(', ')}` : '',
    cats.length ? `categories nobody tried: ${cats.join(', ')}` : '',
  ].filter(Boolean).join(' · '));
}

function feedItem(e) {
  return el('li', { className: e.level }, el('time', {}, clock(e.at)), el('span', {}, e.message));
}

function renderFeed() {
  const items = [...state.snap.feed].reverse().map(feedItem);
  $('feed').replaceChildren(...(items.length ? items : [el('li', { className: 'empty' }, 'Events appear here as they happen.')]));
}

function renderOverview() {
  const s = state.snap;
  setText('node-peer', s.node.peerId ? shortId(s.node.peerId) : '–');
  $('node-peer').title = s.node.peerId || '';
  setText('node-program', s.node.program ? s.node.program.slice(0, 16) : '–');
  renderStats();
  renderChart();
  renderLive();
  renderLeaderboard();
  renderExperiments();
  renderPeers();
  renderDirections();
  renderFeed();
}

// ---------------------------------------------------------------------------------------------
// Experiment page

function diffLines(diff) {
  return diff.split('\n').map((line) => {
    let cls = '';
    if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ') || line.startsWith('index ')) cls = 'meta';
    else if (line.startsWith('@@')) cls = 'hunk';
    else if (line.startsWith('+')) cls = 'add';
    else if (line.startsWith('-')) cls = 'del';
    return el('span', { className: cls }, line);
  });
}

/** A metric as the reference prints it: no float noise (1.1236810000000002 → 1.123681). */
const metric = (v) => (typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toFixed(6))) : String(v));

function facts(pairs) {
  return pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]);
}

function lineageItem(item) {
  const who = item.local ? 'this node' : item.peer ? `peer ${shortId(item.peer)}` : 'unknown peer';
  const label = item.seq !== null ? `#${item.seq}` : shortId(item.id);
  const link = item.local || item.peer ? el('a', { href: expHref(item.id), title: item.id }, label) : el('code', { title: item.id }, label);
  return el('li', {}, link, ` — ${who}`, item.hypothesis ? el('span', { className: 'muted' }, ` · ${item.hypothesis}`) : null);
}

async function showExperiment(id) {
  $('overview').hidden = true;
  $('experiment').hidden = false;
  window.scrollTo(0, 0);
  setText('exp-title', 'loading…');
  let x;
  try {
    x = await getJson(`/api/experiment/${encodeURIComponent(id)}`);
  } catch (err) {
    setText('exp-title', 'experiment not found');
    setText('exp-hypothesis', err.message);
    return;
  }
  $('experiment').dataset.id = x.id;
  setText('exp-title', `${x.seq !== null ? `experiment #${x.seq}` : 'peer result'} · ${x.local ? 'this node' : `peer ${shortId(x.peer)}`}`);
  setText('exp-status', statusLabel(x));
  $('exp-status').className = `badge ${x.status}`;
  setText('exp-hypothesis', x.hypothesis);
  setText('exp-reason', x.reason && x.status !== 'keep' ? `reason: ${x.reason}` : '');
  $('exp-facts').replaceChildren(...facts([
    ['val_bpb', x.metrics ? fmt(x.metrics.val_bpb) : null],
    ['best before', x.bestBefore !== null ? fmt(x.bestBefore) : null],
    ['keep margin', x.margin !== null ? `${fmt(x.margin)}${x.insideNoise ? ' (a win inside the noise)' : ''}` : null],
    ['proposer', x.origin ? `${x.proposer} (${x.origin})` : x.proposer],
    ['hardware', x.hardware], ['dataset', x.dataset], ['budget', x.budget],
    ['started', x.startedAt], ['ended', x.endedAt],
    ['peer', x.peer], ['id', x.id], ['commit', x.commit],
  ]));
  $('exp-metrics').replaceChildren(...(x.metrics ? facts(Object.entries(x.metrics).map(([k, v]) => [k, metric(v)])) : [el('dd', { className: 'empty' }, 'no metrics: the run did not finish')]));
  const parent = $('exp-parent');
  parent.replaceChildren(x.parent ? el('a', { href: expHref(x.parent.id) }, `parent #${x.parent.seq}: ${x.parent.hypothesis}`) : x.local ? 'parent: the best train.py at the time' : '');
  const diff = $('exp-diff');
  diff.replaceChildren(...(x.diff ? diffLines(x.diff) : [el('span', { className: 'meta' }, x.diff === '' ? '(no change: the baseline)' : '(the peer did not share its diff)')]));
  $('exp-log').replaceChildren(...(x.logTail.length ? x.logTail.map((l) => el('span', {}, l)) : [el('span', { className: 'muted' }, x.local ? '(no log kept)' : "(a peer's run log stays on its box)")]));
  $('exp-lineage').replaceChildren(...(x.lineage.length ? x.lineage.map(lineageItem) : [el('li', { className: 'muted' }, 'only its own change')]));
}

function route() {
  const m = /^#\/exp\/(.+)$/.exec(location.hash);
  if (m) {
    // A malformed escape (#/exp/%E0%A4%A) is looked up as written: not found, instead of an uncaught URIError.
    let id = m[1];
    try { id = decodeURIComponent(m[1]); } catch { /* kept as written */ }
    return showExperiment(id);
  }
  $('experiment').hidden = true;
  $('overview').hidden = false;
  if (state.snap) renderOverview();
}

// ---------------------------------------------------------------------------------------------
// Live updates (server-sent events)

function setConn(s, why) {
  const c = $('conn');
  c.dataset.state = s;
  c.textContent = s === 'live' ? 'live' : s === 'offline' ? 'offline' : 'reconnecting';
  c.title = why || '';
}

function onLoop(ev) {
  const live = state.snap && state.snap.live;
  const w = Number.isSafeInteger(ev.worker) && ev.worker >= 0 ? ev.worker : 0;
  if (ev.type === 'progress') {
    const workers = workersOf();
    const row = workers.find((x) => x.worker === w);
    // One worker: the page shows live.current; several: each worker's row.
    const cur = workers.length > 1 ? row && row.current : live && live.current;
    if (cur) Object.assign(cur, { step: ev.step, loss: ev.loss, elapsedSeconds: ev.elapsedSeconds, fraction: ev.fraction });
    const pts = state.curves.get(w) || [];
    state.curves.set(w, pts);
    const last = pts[pts.length - 1];
    if (!last || last.step !== ev.step) pts.push({ step: ev.step, loss: ev.loss, elapsedSeconds: ev.elapsedSeconds });
    if (state.snap && !$('overview').hidden) renderLive();
  }
  // A new run (an experiment, a noise run, a replication) starts a new curve for its worker.
  if (ev.type === 'start' || ev.type === 'run') state.curves.set(w, []);
}

function connect() {
  const es = new EventSource('/api/events');
  es.onopen = () => setConn('live');
  es.onerror = () => setConn(es.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  es.addEventListener('update', () => { if (!$('overview').hidden) refresh(); else state.stale = true; });
  es.addEventListener('loop', (m) => onLoop(JSON.parse(m.data)));
  es.addEventListener('log', (m) => {
    const e = JSON.parse(m.data);
    if (state.snap) state.snap.feed.push(e);
    const feed = $('feed');
    if (feed.firstChild && feed.firstChild.classList.contains('empty')) feed.textContent = '';
    feed.prepend(feedItem(e));
    while (feed.childNodes.length > 200) feed.lastChild.remove();
  });
}

function segmented(id, key) {
  $(id).addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (!b) return;
    state[key] = b.dataset.value;
    for (const x of $(id).querySelectorAll('button')) x.classList.toggle('on', x === b);
    $('peer-filter').hidden = state.scope !== 'swarm';
    if (state.snap) renderChart();
  });
}

function main() {
  segmented('scope', 'scope');
  segmented('x-mode', 'xMode');
  $('peer-filter').addEventListener('change', (e) => { state.peer = e.target.value; renderChart(); });
  window.addEventListener('hashchange', () => {
    route();
    if (state.stale && !$('overview').hidden) { state.stale = false; refresh(); }
  });
  let resize = null;
  window.addEventListener('resize', () => { clearTimeout(resize); resize = setTimeout(() => state.snap && renderChart(), 150); });
  // Tests and curious users read the plotted data here; nothing on the page depends on it.
  window.__dashboard = state;
  refresh().then(route);
  connect();
}

main();
