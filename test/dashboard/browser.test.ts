/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (no browser
 * download). Screenshots go to test-artifacts/dashboard/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/index.js';
import { serveDashboard, type DashboardServer } from '../../src/dashboard/index.js';
import { HOSTILE, memorySource, PEER_B, PEER_EVIL, record } from './fixtures.js';

// The functions given to page.evaluate run in the page; the tests' TypeScript has no DOM library, so
// these declarations (local to this file) name just what they touch.
interface PageElement { dataset: Record<string, string | undefined> }
declare const document: { getElementById(id: string): PageElement | null; querySelector(selector: string): PageElement | null };
declare const window: Record<string, unknown>;
declare function getComputedStyle(element: PageElement): { backgroundColor: string };

const CHROMIUM = process.env.SWARM_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What the page plotted: the data attribute and uPlot's own columns (kept, discarded, crashed). */
async function plotted(page: Page): Promise<{ attr: number; fromData: number }> {
  return page.evaluate(() => {
    const box = document.getElementById('chart')!;
    const chart = (window.__dashboard as { chart: { data: (number | null)[][] } | null }).chart;
    const fromData = chart ? chart.data.slice(1, 4).reduce((n, col) => n + col.filter((v) => v !== null).length, 0) : 0;
    return { attr: Number(box.dataset.points), fromData };
  });
}

const pwned = (page: Page) => page.evaluate(() => window.__pwned);

describe('dashboard in chromium', () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  let dash: DashboardServer;
  const node = memorySource();
  const cspViolations: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`chromium not found at ${CHROMIUM}: install it with \`sudo bash scripts/install-browser.sh\` (Debian's chromium package), or point SWARM_CHROMIUM at one`);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'swarm-dash-browser-'));
    dash = await serveDashboard({ source: node.source, host: '127.0.0.1', port: 0, token: null, log: silentLogger, pollMs: 300 });
    context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1440, height: 1000 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(dash.url);
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) > 0);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await dash?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('plots one point per experiment, lists the skipped duplicate apart, and breaks no CSP rule', async () => {
    // 12 experiments: 4 kept, 6 discarded, 2 crashed; the skip is not one.
    expect(await plotted(page)).toEqual({ attr: 12, fromData: 12 });
    const skipRow = page.locator('#experiments tr[data-status="skip"]');
    await expect(skipRow.count()).resolves.toBe(1);
    expect(await skipRow.locator('.badge').textContent()).toBe('skipped');
    await page.locator('#scope button[data-value="swarm"]').click();
    // The swarm's results: our 12, peer B's 7, the hostile peer's 1.
    expect(await plotted(page)).toEqual({ attr: 20, fromData: 20 });
    await page.locator('#peer-filter').selectOption(PEER_B);
    expect(await plotted(page)).toEqual({ attr: 7, fromData: 7 });
    await page.locator('#peer-filter').selectOption('');
    await page.locator('#x-mode button[data-value="time"]').click();
    expect((await plotted(page)).attr).toBe(20);
    await page.screenshot({ path: join(ARTIFACTS, 'swarm-by-time.png'), fullPage: true });
    await page.locator('#scope button[data-value="node"]').click();
    await page.locator('#x-mode button[data-value="seq"]').click();
    expect(await page.locator('#leaderboard .badge.disputed').count()).toBeGreaterThan(0);
    expect(await page.locator('#leaderboard .badge.verified').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
    expect(cspViolations).toEqual([]);
  });

  it('shows hostile text literally and never runs it', async () => {
    expect(await pwned(page)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#experiments').textContent()).toContain(HOSTILE);
    expect(await page.locator('#leaderboard').textContent()).toContain(HOSTILE);
    // The hostile peer id: its end as text in the cell, the whole of it in the cell's title.
    expect(await page.locator('#peers').textContent()).toContain(PEER_EVIL.slice(-10));
    expect(await page.locator('#peers td').evaluateAll((tds, evil) => tds.some((td) => td.getAttribute('title') === evil), PEER_EVIL)).toBe(true);
    // The hostile reason of a crash is shown as text too.
    expect(await page.locator('#experiments tr[data-id="exp-009-crash"]').textContent()).toContain(HOSTILE);
  });

  it('shows the plateau and the directions table; a hostile peer\'s claim makes a direction crowded and stays text', async () => {
    const row = page.locator('#directions tr[data-key="LEARNING_RATE"]');
    await row.waitFor();
    // 11 of our experiments and 6 of peer B's changed LEARNING_RATE (the baselines change nothing); 3 + 2 kept, the last two not.
    expect(await row.locator('td').allTextContents()).toEqual(['LEARNING_RATE', 'learning rate', 'active', '17', '5', '0.060000', '2', '–']);
    expect(await page.locator('#plateau').textContent()).toBe('2 of 8 experiments without a keep');
    expect(await page.locator('#directions-open').textContent()).toContain('categories nobody tried: batch, depth/width, attention');
    node.data.shared.push({
      type: 'claim', experiment: 'evil-claim', fingerprint: 'f', parentHash: 'p'.repeat(64), hash: null,
      hypothesis: `${HOSTILE} LEARNING_RATE 0.03 -> 0.05`, hardware: 'cpu', expires: new Date(Date.now() + 3_600_000).toISOString(),
      v: 1, program: 'a3f9c0de5b71'.padEnd(64, '0'), peer: PEER_EVIL, seq: 50, time: new Date().toISOString(), sig: 'c2ln',
    });
    await page.waitForSelector('#directions tr[data-key="LEARNING_RATE"][data-state="crowded"]');
    expect(await row.locator('td').last().textContent()).toBe(`…${PEER_EVIL.slice(-10)}`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await pwned(page)).toBeUndefined();
    await page.screenshot({ path: join(ARTIFACTS, 'directions.png'), fullPage: true });
    node.data.shared.pop();
  });

  it('shows a new result and the live loss curve without a reload', async () => {
    await page.evaluate(() => { window.__marker = 1; });
    const next = record(14, 'keep', 1.72, 'embedding lr 0.8');
    node.loop({ worker: 0, type: 'start', record: { ...next, status: 'running', metrics: null, endedAt: null }, expectedSeconds: 30 });
    for (let step = 1; step <= 5; step++) node.loop({ worker: 0, type: 'progress', seq: 14, step: step * 10, loss: 4 - step * 0.2, elapsedSeconds: step * 2, fraction: step / 10 });
    await page.waitForFunction(() => Number(document.getElementById('loss-chart')?.dataset.points) >= 5);
    node.data.records.push(next);
    node.loop({ worker: 0, type: 'finish', record: next });
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) === 13);
    expect(await plotted(page)).toEqual({ attr: 13, fromData: 13 });
    expect(await page.evaluate(() => window.__marker)).toBe(1);
    expect(await page.locator('#feed').textContent()).toContain('#14 keep 1.720000');
    await page.screenshot({ path: join(ARTIFACTS, 'live-update.png'), fullPage: true });
  });

  it('opens an experiment with its coloured diff, log tail and lineage; hostile lines stay text', async () => {
    await page.locator('#experiments tr[data-id="exp-006-keep"]').click();
    await page.waitForSelector('#exp-diff span.add');
    const colours = await page.evaluate(() => ['add', 'del'].map((c) => getComputedStyle(document.querySelector(`#exp-diff span.${c}`)!).backgroundColor));
    expect(colours[0]).not.toBe(colours[1]);
    for (const c of colours) expect(c).not.toBe('rgba(0, 0, 0, 0)');
    expect(await page.locator('#exp-diff span.add').allTextContents()).toContain('+</pre><script>window.__pwned=1</script>');
    expect(await page.locator('#exp-diff span.del').allTextContents()).toContain(`-${HOSTILE}`);
    const lineage = await page.locator('#exp-lineage').textContent();
    expect(lineage).toContain('this node');
    expect(lineage).toMatch(/peer …B{10}/);
    expect(await page.locator('#exp-log').textContent()).toContain('log of exp-006-keep');
    await page.screenshot({ path: join(ARTIFACTS, 'experiment.png'), fullPage: true });

    await page.goto(`${dash.url}#/exp/exp-003-keep`);
    await page.waitForFunction(() => document.getElementById('experiment')?.dataset.id === 'exp-003-keep');
    expect(await page.locator('#exp-hypothesis').textContent()).toBe(HOSTILE);
    expect(await page.locator('#exp-log').textContent()).toContain(HOSTILE);
    expect(await page.locator('img, script:not([src])').count()).toBe(0);
    expect(await pwned(page)).toBeUndefined();

    // A hostile peer's result: its id, peer id and lineage are hostile too.
    await page.goto(`${dash.url}#/exp/${encodeURIComponent(`evil-${HOSTILE}`)}`);
    await page.waitForFunction((id) => document.getElementById('experiment')?.dataset.id === id, `evil-${HOSTILE}`);
    expect(await page.locator('#exp-facts').textContent()).toContain(PEER_EVIL);
    expect(await page.locator('#exp-lineage').textContent()).toContain(HOSTILE.slice(-10));
    expect(await page.locator('img, script:not([src])').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'hostile-peer.png'), fullPage: true });
    expect(await pwned(page)).toBeUndefined();
  });

  it('off loopback, logs in once with the printed URL: the token leaves the address bar, the page and its event stream work', async () => {
    const remote = await serveDashboard({ source: memorySource().source, host: '0.0.0.0', port: 0, token: null, log: silentLogger, pollMs: 300 });
    try {
      const other = await context.newPage();
      const bare = `http://127.0.0.1:${remote.port}/`;
      expect((await other.goto(bare))!.status()).toBe(401);
      await other.goto(remote.url);
      await other.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) === 12);
      expect(other.url()).toBe(bare);
      await other.waitForFunction(() => document.getElementById('conn')?.dataset.state === 'live');
      await other.close();
    } finally {
      await remote.close();
    }
  });

  it('shows one row per worker with its own progress, and a loss curve for each', async () => {
    const multi = memorySource({ devices: ['cuda:0', 'cuda:1'] });
    const live = multi.data.live!;
    live.workers[1]!.current!.hypothesis = HOSTILE;
    const remote = await serveDashboard({ source: multi.source, host: '127.0.0.1', port: 0, token: null, log: silentLogger, pollMs: 300 });
    const other = await context.newPage();
    const rows = other.locator('#live-workers li[data-worker]');
    const bars = () => rows.locator('.bar').evaluateAll((bs) => bs.map((b) => (b as unknown as { style: { width: string } }).style.width));
    try {
      await other.goto(remote.url);
      await other.waitForFunction(() => document.querySelector('#live-workers li[data-worker="1"]') !== null);
      expect(await other.locator('#live-single').isHidden()).toBe(true);
      expect(await other.locator('#live-kind').textContent()).toBe('2 of 2 workers busy');
      expect(await rows.count()).toBe(2);
      expect(await rows.nth(0).textContent()).toMatch(/^worker 0 · cuda:0experiment #14embedding lr 0\.8.*40 %.*step 40/);
      expect(await rows.nth(1).locator('.head').textContent()).toBe('worker 1 · cuda:1experiment #15');
      expect(await rows.nth(1).locator('.hypothesis').textContent()).toBe(HOSTILE);
      expect(await bars()).toEqual(['40%', '60%']);
      // Each worker's progress moves its own row and draws its own curve.
      for (const step of [70, 80, 90]) multi.loop({ worker: 1, type: 'progress', seq: 15, step, loss: 3 - step / 100, elapsedSeconds: step / 4, fraction: step / 100 });
      for (const step of [50, 60]) multi.loop({ worker: 0, type: 'progress', seq: 14, step, loss: 3.2 - step / 100, elapsedSeconds: step / 4, fraction: step / 200 });
      await other.waitForFunction(() => Number(document.getElementById('loss-chart')?.dataset.points) === 5);
      expect(await other.locator('#loss-chart').getAttribute('data-series')).toBe('2');
      expect(await bars()).toEqual(['30%', '90%']);
      expect(await rows.nth(1).locator('.detail').textContent()).toContain('step 90 · loss 2.1000');
      expect(await other.evaluate(() => (window.__dashboard as { lossChart: { series: { label: string }[] } }).lossChart.series.slice(1).map((x) => x.label))).toEqual(['worker 0', 'worker 1']);
      await other.screenshot({ path: join(ARTIFACTS, 'workers.png'), fullPage: true });
      // Worker 0 finishes: its row goes idle, worker 1's stays as it was.
      live.workers[0]!.current = null;
      live.current = live.workers[1]!.current;
      multi.loop({ worker: 0, type: 'finish', record: record(14, 'discard', 1.9, 'embedding lr 0.8') });
      await other.waitForFunction(() => document.querySelector('#live-workers li[data-worker="0"].idle') !== null);
      expect(await other.locator('#live-kind').textContent()).toBe('1 of 2 workers busy');
      expect(await rows.nth(1).locator('.hypothesis').textContent()).toBe(HOSTILE);
      expect(await other.locator('img').count()).toBe(0);
      expect(await other.evaluate(() => window.__pwned)).toBeUndefined();
      expect(cspViolations).toEqual([]);
    } finally {
      await other.close();
      await remote.close();
    }
  });

  it('opens a chart point by clicking it', async () => {
    await page.goto(dash.url);
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) > 0);
    const box = (await page.locator('#chart .u-over').boundingBox())!;
    const chart = await page.evaluate(() => {
      const u = (window.__dashboard as { chart: { valToPos(v: number, s: string): number; data: number[][] } }).chart;
      return { x: u.valToPos(u.data[0]![2]!, 'x'), y: u.valToPos(u.data[1]![2]!, 'y') };
    });
    await page.mouse.click(box.x + chart.x, box.y + chart.y);
    await page.waitForFunction(() => document.getElementById('experiment')?.dataset.id === 'exp-003-keep');
    expect(await pwned(page)).toBeUndefined();
  });
});
