/**
 * The dashboard under attack. Every string and number a peer can choose is pushed through every
 * route and every rendered field; each test asserts that the attack failed. HTTP attacks go over
 * raw sockets where node's client would clean the request up; browser attacks run in Debian's
 * chromium (playwright-core). Screenshots go to test-artifacts/dashboard-hostile/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { silentLogger } from '../../src/core/index.js';
import { serveDashboard, type DashboardEvent, type DashboardServer, type DashboardSnapshot, type DashboardSource } from '../../src/dashboard/index.js';
import { tokenMatches } from '../../src/dashboard/security.js';
import { CPU, http, liveStatus, memorySource, noiseFloors, ownRecords, record, resultOf, SELF, sharedRecords } from './fixtures.js';

// Page-side declarations (the tests' TypeScript has no DOM library).
interface PageNode { textContent: string | null; className: string; getAttribute(n: string): string | null; dataset: Record<string, string | undefined> }
declare const document: { getElementById(id: string): PageNode | null; querySelectorAll(s: string): PageNode[] };
declare const window: Record<string, unknown>;
declare const location: { hash: string };

const CHROMIUM = process.env.SWARM_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard-hostile');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Payloads that would run if any of them reached the page as markup, a URL or a style. */
const XSS = [
  '<img src=x onerror="window.__pwned=1;alert(1)">',
  '"><svg onload=window.__pwned=2>',
  "'><script>window.__pwned=3</script>",
  '</pre></code></td></tr></table><iframe srcdoc="<script>parent.__pwned=4</script>">',
  'javascript:window.__pwned=5;alert(5)',
  '<a href="javascript:window.__pwned=6">x</a>',
  '<style>*{background:url(//evil.example/leak)}</style>',
  '{{constructor.constructor("window.__pwned=7")()}}',
  '<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=8>',
];
const X = (i: number) => XSS[i % XSS.length]!;
const ALL_XSS = XSS.join(' ');


/** A request written byte for byte (no client-side clean-up of the path or the Host header). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    let out = '';
    s.on('data', (c) => (out += c.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(out));
    s.setTimeout(10_000, () => s.destroy(new Error('raw request timed out')));
  });
}
const statusOf = (reply: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1] ?? 0);
const get = (port: number, path: string, host = `127.0.0.1:${port}`) => raw(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

/** The status an /api/events request gets; the stream is closed at once. */
function streamStatus(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
      resolve(res.statusCode!);
      req.destroy();
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer')));
    req.end();
  });
}

const servers: DashboardServer[] = [];
async function serve(opts: Partial<Parameters<typeof serveDashboard>[0]> = {}, source: DashboardSource = memorySource().source) {
  const dash = await serveDashboard({ source, host: '127.0.0.1', port: 0, token: null, log: silentLogger, pollMs: 100, ...opts });
  servers.push(dash);
  return { dash, port: dash.port };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** What package.json, the state folder or source files would show if a route leaked them. */
const LEAK = /"devDependencies"|"name":\s*"swarm"|root:x:0:0|import .* from|"compilerOptions"/;

describe('hostile HTTP', () => {
  it('serves no file outside its five assets, however the path is spelled', async () => {
    const { port } = await serve();
    const paths = [
      '/../package.json', '/../../package.json', '/static/../../package.json', '/static/..%2f..%2fpackage.json',
      '/%2e%2e/package.json', '/%2e%2e/%2e%2e/package.json', '/..%2fpackage.json', '/..%5cpackage.json', '/..\\package.json',
      '/vendor/../../package.json', '/vendor/..%2f..%2f..%2fpackage.json', '/vendor/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/vendor/uPlot.iife.min.js/../../../package.json', '/vendor/..%252f..%252fpackage.json', '/vendor/uplot/package.json',
      '/src/dashboard/static/app.js', '/src/dashboard/server.ts', '/node_modules/uplot/package.json', '/tsconfig.json',
      '//etc/passwd', '/..%00/package.json', '/app.js%00.json', '/app.js/', '/APP.JS', '/index.html/..%2f..%2fpackage.json',
      '/api/../package.json', '/api/snapshot/../../package.json', '/node/state/records.jsonl', '/.git/config',
      'http://evil.example/../package.json', '/%c0%ae%c0%ae/package.json', '/.%2e/package.json',
    ];
    for (const path of paths) {
      const reply = await get(port, path);
      expect(reply, path).not.toMatch(LEAK);
      expect([400, 404], path).toContain(statusOf(reply));
    }
    // Dot segments that normalise back onto an asset serve just that asset.
    expect(statusOf(await get(port, '/vendor/../app.js'))).toBe(200);
  });

  it('refuses every Host that is not its own, over raw requests (DNS rebinding)', async () => {
    const { port } = await serve();
    const refused = [
      'evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, `localhost.:${port}`,
      `evil.example@127.0.0.1:${port}`, `127.0.0.1:${port}@evil.example`, `127.0.0.1:${port}:evil`, `[::1].evil.example:${port}`,
      `127.0.0.2:${port}`, `0.0.0.0:${port}`, `127.1:${port}`, `2130706433:${port}`, `0x7f000001:${port}`, `[::ffff:127.0.0.1]:${port}`,
      `127.0.0.1 evil.example`, '', ' ', `localhost%2eevil.example:${port}`, `[::1]x:${port}`,
    ];
    for (const host of refused) {
      const reply = await get(port, '/api/snapshot', host);
      expect(statusOf(reply), JSON.stringify(host)).toBeGreaterThanOrEqual(400);
      expect(reply, host).not.toContain('"records"');
    }
    // Two Host headers: the first one (evil) is what node keeps, and it is refused.
    const twice = await raw(port, `GET /api/snapshot HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(twice).not.toContain('"records"');
    // An absolute request target naming another host does not get around the Host header.
    const absolute = await raw(port, `GET http://127.0.0.1:${port}/api/snapshot HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
    expect(absolute).not.toContain('"records"');
    for (const host of [`LOCALHOST:${port}`, `127.0.0.1:${port}`, 'localhost']) expect(statusOf(await get(port, '/api/snapshot', host)), host).toBe(200);
  });

  it('answers only GET and HEAD, and never with CORS headers', async () => {
    const { port } = await serve();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'PURGE', 'SEARCH', 'QUERY']) {
      const reply = await raw(port, `${method} /api/snapshot HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: GET\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      const status = statusOf(reply);
      expect(status === 405 || status === 400, `${method}: ${status}`).toBe(true);
      expect(reply, method).not.toMatch(/access-control-allow/i);
      expect(reply, method).not.toContain('"records"');
    }
    // Fetch Metadata: the API answers only its own origin (or a request no browser page made).
    for (const [site, status] of [['cross-site', 403], ['same-site', 403], ['same-origin', 200], ['none', 200]] as const) {
      for (const path of ['/api/snapshot', '/api/experiment/1']) {
        const r = await http(port, path, { headers: { 'Sec-Fetch-Site': site, 'Sec-Fetch-Mode': 'no-cors' } });
        expect(r.status, `${site} ${path}`).toBe(status);
        if (status === 403) expect(r.body).not.toContain('"id"');
      }
    }
    expect((await http(port, '/', { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate' } })).status).toBe(200);
    for (const path of ['/', '/api/snapshot', '/api/experiment/1', '/app.js']) {
      const r = await http(port, path, { headers: { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' } });
      expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-')), path).toEqual([]);
      expect(r.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(r.headers['x-content-type-options'], path).toBe('nosniff');
    }
  });

  it('answers hostile experiment ids with 400 or 404 and stays up', async () => {
    const { port } = await serve();
    const ids = [
      '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf',
      '%00', '%0d%0aSet-Cookie:%20x=1', '..%2F..%2Fpackage.json', '%2e%2e', '-1', '1e3', '0x1', '99999999999999999999999999',
      'NaN', 'Infinity', '%E0%A4%A', '%', '%%', '%C0%AE', '%uD800', '%ED%A0%80', encodeURIComponent('\u{10FFFF}'.repeat(10)),
      'x'.repeat(301), 'é'.repeat(151).split('').map(encodeURIComponent).join(''), '%2F'.repeat(500), 'a'.repeat(8000),
    ];
    // Too long once decoded (over 300 characters) or not decodable: 400. Anything else is looked up, and not found.
    const bad = new Set(['%E0%A4%A', '%', '%%', '%uD800', '%ED%A0%80', '%C0%AE', 'x'.repeat(301), '%2F'.repeat(500), 'a'.repeat(8000)]);
    for (const id of ids) {
      const reply = await get(port, `/api/experiment/${id}`);
      expect(statusOf(reply), id.slice(0, 40)).toBe(bad.has(id) ? 400 : 404);
      expect(reply).not.toMatch(/^set-cookie/im);
    }
    // Too long for node's header limit: refused by the parser, the server lives on.
    const huge = await get(port, `/api/experiment/${'a'.repeat(100_000)}`);
    expect([0, 400, 414, 431]).toContain(statusOf(huge));
    expect(statusOf(await get(port, '/api/experiment/1'))).toBe(200);
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('off loopback, lets nothing in without the whole token, and leaks it nowhere', async () => {
    const { dash, port } = await serve({ host: '0.0.0.0' });
    const token = dash.token!;
    const wrong = [
      '', token.slice(0, -1), `${token}x`, token.toUpperCase(), ` ${token}`, encodeURIComponent(token) + '%00', 'null', 'undefined', '[object Object]',
    ];
    for (const t of wrong) {
      expect((await http(port, `/api/snapshot?token=${encodeURIComponent(t)}`)).status, JSON.stringify(t)).toBe(401);
      // (Bearer takes any run of spaces after the word: " token" is the token itself there.)
      if (t.trim() === t) expect((await http(port, '/api/snapshot', { headers: { Authorization: `Bearer ${t}` } })).status, t).toBe(401);
      expect((await http(port, '/api/snapshot', { headers: { Cookie: `swarm_dashboard_${port}=${encodeURIComponent(t)}` } })).status, t).toBe(401);
    }
    for (const path of ['/', '/index.html', '/app.js', '/api/snapshot', '/api/experiment/1', '/api/events', '/vendor/uPlot.iife.min.js']) {
      for (const method of ['GET', 'HEAD']) {
        const r = await http(port, path, { method });
        expect(r.status, `${method} ${path}`).toBe(401);
        expect(r.body).not.toContain(token);
        expect(r.body).not.toContain('"records"');
      }
    }
    // A cookie of another port, Basic auth: refused.
    expect((await http(port, '/api/snapshot', { headers: { Cookie: `swarm_dashboard_${port + 1}=${token}` } })).status).toBe(401);
    expect((await http(port, '/api/snapshot', { headers: { Authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` } })).status).toBe(401);
    // Every Host is allowed when bound to every interface: a rebinding page still needs the token.
    expect((await http(port, '/api/snapshot', { headers: { Host: 'evil.example' } })).status).toBe(401);

    // The login: a cookie only this origin's requests carry, then the bare page (no token in the address or a Referer).
    const login = await http(port, `/?token=${token}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    const cookie = login.headers['set-cookie']![0]!;
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Strict/i);
    expect(cookie).toMatch(/;\s*Path=\//);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(login.headers['referrer-policy']).toBe('no-referrer');
    expect((await http(port, `/app.js?token=${token}`)).headers.location).toBe('/');
    expect((await http(port, `//evil.example/%2F..?token=${token}`)).headers.location).toBe('/');
    expect((await http(port, '/api/snapshot', { headers: { Cookie: cookie.split(';')[0]! } })).status).toBe(200);
    // Refusals and the redirect carry the same guards as the page: no framing, no sniffing, no CORS, no referrer.
    const refusals = [login, await http(port, '/api/snapshot'), await http(port, '/nothing', { headers: { Authorization: `Bearer ${token}` } }),
      await http(port, '/', { method: 'POST' }), await http(port, '/api/snapshot', { headers: { Authorization: `Bearer ${token}`, 'Sec-Fetch-Site': 'cross-site' } })];
    expect(refusals.map((r) => r.status)).toEqual([303, 401, 404, 405, 403]);
    for (const r of refusals) {
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('compares tokens whole, in constant time, whatever their bytes', () => {
    const token = 'A'.repeat(32);
    for (const given of ['', 'A', 'A'.repeat(31), 'A'.repeat(33), 'Á'.repeat(32), '\u0000'.repeat(32), 'A'.repeat(1_000_000), '\uD800'.repeat(32)]) {
      expect(tokenMatches(given, token)).toBe(false);
    }
    expect(tokenMatches(token, token)).toBe(true);
  });

  it('refuses an empty token instead of letting an empty ?token= in', async () => {
    // `token: ''` passed to serveDashboard (config refuses it, the API must too) would make `?token=` a valid login.
    let dash: DashboardServer | null = null;
    try {
      dash = (await serve({ host: '0.0.0.0', token: '' })).dash;
    } catch {
      return; // refused at start: held
    }
    expect((await http(dash.port, '/api/snapshot?token=')).status).toBe(401);
    expect((await http(dash.port, '/api/snapshot', { headers: { Cookie: `swarm_dashboard_${dash.port}=` } })).status).toBe(401);
  });

  it('caps event streams, refuses the 17th, and frees a slot when one closes', async () => {
    const { port } = await serve();
    const open: Socket[] = [];
    const openStream = () => new Promise<{ socket: Socket; status: number }>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
      s.once('data', (c) => resolve({ socket: s, status: statusOf(c.toString('latin1')) }));
      s.on('error', reject);
    });
    try {
      for (let i = 0; i < 16; i++) {
        const { socket, status } = await openStream();
        open.push(socket);
        expect(status).toBe(200);
      }
      const extra = await openStream();
      open.push(extra.socket);
      expect(extra.status).toBe(503);
      open.shift()!.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const again = await openStream();
      open.push(again.socket);
      expect(again.status).toBe(200);
    } finally {
      for (const s of open) s.destroy();
    }
  });

  it('drops event streams that stop reading, so slow readers neither fill the slots nor the memory', async () => {
    const node = memorySource();
    const { port } = await serve({}, node.source);
    const slow: Socket[] = [];
    try {
      // Sixteen readers that never read: they hold every slot.
      for (let i = 0; i < 16; i++) {
        const s = connect(port, '127.0.0.1');
        await new Promise<void>((r) => s.once('connect', () => r()));
        s.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
        s.pause();
        s.on('error', () => {});
        slow.push(s);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(await streamStatus(port)).toBe(503);
      // A peer's long log lines, 64 MiB in all, far more than the kernel's socket buffers hold.
      const line = 'x'.repeat(256 * 1024);
      for (let i = 0; i < 256; i++) {
        node.emit({ type: 'log', level: 'info', message: line, at: new Date().toISOString() } satisfies DashboardEvent);
        if (i % 16 === 0) await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 300));
      // The stalled readers were dropped: a new page gets its stream.
      expect(await streamStatus(port)).toBe(200);
      expect(process.memoryUsage().rss).toBeLessThan(4 * 1024 ** 3);
    } finally {
      for (const s of slow) s.destroy();
    }
  }, 60_000);

  it('does not send the page the lineages of the leaderboard (4096 ids each, never shown there)', async () => {
    // 200 kept results in 20 hardware classes, each with the longest lineage records.ts allows.
    const lineage = Array.from({ length: 4096 }, (_, k) => `abcdefghi-${String(k).padStart(8, '0')}`);
    const shared = Array.from({ length: 200 }, (_, i) => resultOf(`12D3KooWfat${i}`, i + 1, {
      ...record(i + 1, 'keep', 1.5 + i / 1000, `fat ${i}`), id: `fat-${i}`, lineage, hardware: { ...CPU, name: `class ${i % 20}` },
    }));
    const { port } = await serve({}, { snapshot: async () => ({ records: [], shared, noise: [], live: null }) });
    const r = await http(port, '/api/snapshot');
    expect(JSON.parse(r.body).leaderboard).toHaveLength(20);
    // With the lineages it is ~18 MB on every refresh of every open page.
    expect(r.body.length).toBeLessThan(2_000_000);
  });

  // src/swarm/leaderboard.ts once copied a class's list per result: 60 000 results took ~33 s on the node's event loop.
  it('answers a snapshot of 40 000 kept results in one hardware class quickly (no quadratic leaderboard)', async () => {
    const shared = Array.from({ length: 40_000 }, (_, i) => resultOf(`12D3KooWq${i % 100}`, i + 1, { ...record(i + 1, 'keep', 1.5 + i / 1e6, 'h'), id: `q-${i}` }));
    const { port } = await serve({}, { snapshot: async () => ({ records: [], shared, noise: [], live: null }) });
    const t0 = Date.now();
    expect((await http(port, '/api/snapshot')).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(3_000);
  }, 90_000);

  it('answers a 10 000-record snapshot in a few seconds', async () => {
    const big = bigSnapshot(10_000);
    const { port } = await serve({}, { snapshot: async () => big });
    const t0 = Date.now();
    const r = await http(port, '/api/snapshot');
    const took = Date.now() - t0;
    expect(r.status).toBe(200);
    const snap = JSON.parse(r.body);
    expect(snap.records).toHaveLength(10_000);
    expect(snap.results.length).toBeGreaterThanOrEqual(10_000);
    expect(took).toBeLessThan(15_000);
    const t1 = Date.now();
    expect((await http(port, `/api/experiment/${big.records[9_999]!.id}`)).status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(15_000);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Hostile data for the page

/** A shared result whose every free field is an attack; `raw` bypasses the fixtures' typing. */
function evilResult(i: number, peer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const r = record(i, i % 3 === 0 ? 'crash' : i % 2 === 0 ? 'keep' : 'discard', i % 3 === 0 ? null : 1.5 + i / 100, X(i));
  return {
    ...resultOf(peer, i, { ...r, id: `evil-${X(i + 1)}-${i}`, diff: XSS.map((x, k) => `${k % 2 ? '+' : '-'}${x}`).join('\n'), lineage: [X(i + 2), 'javascript:window.__pwned=9'] }),
    proposer: X(i + 3), reason: X(i + 4), hardware: { ...CPU, name: X(i + 5), count: i % 2 ? 1 : 1_000_000 }, ...extra,
  };
}

function hostileSnapshot(): DashboardSnapshot {
  const own: ExperimentRecord[] = ownRecords().map((r, i) => ({
    ...r, hypothesis: `${r.hypothesis} ${X(i)}`, reason: r.status === 'keep' ? null : X(i + 1),
    origin: { kind: r.origin.kind, proposer: X(i + 2) }, diff: r.seq === 1 ? '' : `${r.diff}\n+${X(i + 3)}\n-${X(i + 4)}\n@@ ${X(i + 5)} @@`,
    logTail: XSS, lineage: [...XSS, 'evil-javascript:alert(1)', 'exp-001-keep'],
  }));
  own.push(record(20, 'keep', 1.7, 'a record with a hostile id', { id: 'javascript:window.__pwned=10//' }));
  own.push(record(21, 'discard', 1.71, 'a record whose id is a hash route', { id: '#/exp/../../api/snapshot' }));
  own.push(record(22, X(3) as ExperimentRecord['status'], 1.72, 'a record whose status is markup (class names)'));
  const peer = `12D3KooW${X(0)}`;
  const shared: unknown[] = [...sharedRecords(ownRecords()).filter((r) => r.peer === SELF)];
  for (let i = 1; i <= 9; i++) shared.push(evilResult(i, i % 2 ? peer : `12D3KooW${X(i)}`));
  // Keys that would pollute prototypes if the page or the server merged them into objects.
  shared.push(JSON.parse(JSON.stringify(evilResult(10, peer)).replace(/^\{/, '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},')));
  const live = liveStatus(30);
  live.current = { ...live.current!, kind: X(1) as 'experiment', hypothesis: X(2), budget: X(3), step: 7, loss: 1e308, fraction: Number.NaN };
  live.next = X(4);
  live.swarm = { ...live.swarm!, peerId: X(5), program: X(6), peers: [{ id: X(7), connected: true }] };
  return { records: own, shared, noise: noiseFloors(), live };
}

/** Numbers a peer may send within what records.ts allows: ±1e15, 5e-324, years 0000 and 9999, a million GPUs. */
function peerNumbersSnapshot(): DashboardSnapshot {
  const vals = [1e15, -1e15, 5e-324, 0, 1.8, 1.79, 1.81, 1e-15];
  const shared: unknown[] = vals.map((v, i) => ({
    ...resultOf(`12D3KooWnum${i}`, i + 1, record(i + 1, i % 3 ? 'keep' : 'discard', 1.8, `peer value ${v}`)),
    metrics: { ...record(1, 'keep', 1.8, '').metrics!, val_bpb: v }, endedAt: i % 2 ? '0000-01-01T00:00:00Z' : '9999-12-31T23:59:59.999999999Z',
    budgetSeconds: 5e-324, hardware: { ...CPU, count: 1_000_000, memoryGb: 1e9 },
  }));
  return { records: ownRecords(), shared, noise: noiseFloors(), live: null };
}

/** Numbers beyond validation: our own records and the loss the run under test prints (NaN, ±Infinity, ±1e308, strings). */
function wildNumbersSnapshot(): DashboardSnapshot {
  const vals: unknown[] = [1.8, 1e308, -1e308, 1e15, -1e15, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 5e-324, '1.5', '<b>2</b>', null, {}, [], 1.79];
  const own = vals.map((v, i) => record(i + 1, 'keep', 1.8, `value ${String(v)}`, {
    metrics: { ...record(1, 'keep', 1.8, '').metrics!, val_bpb: v as number, num_steps: v as number }, bestBefore: v as number,
  }));
  own.push(record(90, 'crash', null, 'crash at the top'));
  const live = liveStatus(99);
  live.current = { ...live.current!, elapsedSeconds: Number.POSITIVE_INFINITY, expectedSeconds: -1, fraction: -1e308, step: -5, loss: Number.NaN };
  return { records: own, shared: [], noise: [{ ...noiseFloors()[0]!, sigma: 1e308, k: Number.NaN }], live };
}

function bigSnapshot(n: number): DashboardSnapshot {
  const records: ExperimentRecord[] = [];
  const shared: unknown[] = [];
  for (let i = 1; i <= n; i++) {
    const r = record(i, i % 5 === 0 ? 'keep' : i % 7 === 0 ? 'crash' : 'discard', i % 7 === 0 ? null : 2 - i / (n * 2), `${X(i)} idea ${i}`, { id: `exp-${i}`, lineage: [`exp-${i - 1}`] });
    records.push(r);
    // A sybil flood: 5000 peer ids and 3000 hardware classes (a class name is the peer's free text).
    shared.push(resultOf(`12D3KooWpeer${i % 5000}`, i, { ...r, id: `peer-${i}`, hardware: { ...CPU, name: `${X(i)} gpu ${i % 3000}` } }));
  }
  return { records, shared, noise: noiseFloors(), live: null };
}

/** A source over fixed data, with live events the test pushes. */
function fixedSource(data: DashboardSnapshot) {
  const listeners = new Set<(e: DashboardEvent) => void>();
  const source: DashboardSource = {
    snapshot: async () => data,
    runLog: async (r) => [...r.logTail, ...XSS.map((x) => `log ${x}`)],
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { source, data, emit: (e: DashboardEvent) => listeners.forEach((l) => l(e)) };
}

// ---------------------------------------------------------------------------------------------
// The page

describe('hostile data in chromium', () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const errors: string[] = [];
  const csp: string[] = [];
  const offsite: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`chromium not found at ${CHROMIUM}: install it with \`sudo bash scripts/install-browser.sh\`, or point SWARM_CHROMIUM at one`);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'swarm-dash-hostile-'));
    context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1440, height: 1000 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) csp.push(m.text());
    });
    page.on('request', (r) => {
      if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(r.url()) && !r.url().startsWith('data:')) offsite.push(r.url());
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const reset = () => {
    dialogs.length = 0;
    errors.length = 0;
    csp.length = 0;
    offsite.length = 0;
  };

  /** Nothing ran, no markup got in, no URL other than the page's own is linked. */
  async function assertClean(where: string): Promise<void> {
    const found = await page.evaluate(() => ({
      pwned: window.__pwned,
      polluted: ({} as Record<string, unknown>).polluted,
      markup: document.querySelectorAll('main img, main svg, main iframe, main script, main style, main math, main object, main embed, main [onerror], main [onload]').length,
      hrefs: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')!).filter((h) => !h.startsWith('#')),
      styles: [...document.querySelectorAll('[style]')].map((n) => n.getAttribute('style')!).filter((s) => /url\(|expression|javascript/i.test(s)),
    }));
    expect(found.pwned, where).toBeUndefined();
    expect(found.polluted, where).toBeUndefined();
    expect(found.markup, where).toBe(0);
    expect(found.hrefs, where).toEqual([]);
    expect(found.styles, where).toEqual([]);
    expect(dialogs, where).toEqual([]);
    expect(csp, where).toEqual([]);
    expect(offsite, where).toEqual([]);
  }

  it('shows every hostile field of the overview as text and runs none of it', async () => {
    reset();
    const node = fixedSource(hostileSnapshot());
    const { dash } = await serve({ pollMs: 200 }, node.source);
    await page.goto(dash.url);
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) > 0);
    // Live events: a feed line and loop events with hostile text.
    node.emit({ type: 'log', level: 'warn', message: `peer says ${ALL_XSS}`, at: X(1) });
    // A line that tries to end its server-sent event and forge another.
    node.emit({ type: 'log', level: 'info', message: 'forged\n\nevent: loop\ndata: {"type":"start"}\r\n\r\nevent: log\r\ndata: {"message":"x"}\u2028\u2029', at: new Date().toISOString() });
    node.emit({ type: 'loop', event: { worker: 0, type: 'progress', seq: 30, step: 8, loss: -1e308, elapsedSeconds: Number.NaN, fraction: 1e308 } as never });
    await page.waitForFunction(() => (document.getElementById('feed')?.textContent ?? '').includes('peer says'));
    const text = await page.evaluate(() => ({
      experiments: document.getElementById('experiments')!.textContent!, leaderboard: document.getElementById('leaderboard')!.textContent!,
      peers: document.getElementById('peers')!.textContent!, feed: document.getElementById('feed')!.textContent!,
      live: document.getElementById('live-hypothesis')!.textContent!, detail: document.getElementById('live-detail')!.textContent!,
      next: document.getElementById('live-next')!.textContent!, peer: document.getElementById('node-peer')!.textContent!,
      kindClass: document.getElementById('live-kind')!.className,
    }));
    expect(text.experiments).toContain(X(0));
    expect(text.experiments).toContain(X(2)); // a proposer
    expect(text.leaderboard).toContain(X(7)); // a hardware class: "1000000× <payload>" or the name alone
    expect(text.feed).toContain(ALL_XSS);
    expect(text.feed).toContain('event: loop');
    expect(await page.locator('#feed li').count()).toBe(2); // no forged third line
    expect(await page.locator('#feed li').evaluateAll((lis) => lis.filter((li) => li.textContent!.includes('forged')).length)).toBe(1);
    expect(text.live).toBe(X(2));
    expect(text.detail).toContain(`budget ${X(3)}`);
    expect(text.next).toBe(`next: ${X(4)} (in ~15 s)`); // the fixture says the next run starts in 15 s
    expect(text.peer).toBe(`…${X(5).slice(-10)}`);
    expect(text.kindClass).toBe(`badge ${X(1)}`); // only class names, which no rule matches
    // The swarm view: hostile peer ids in the chart's hover and in the selector.
    await page.locator('#scope button[data-value="swarm"]').click();
    await page.locator('#x-mode button[data-value="time"]').click();
    const options = await page.locator('#peer-filter option').allTextContents();
    expect(options.some((o) => o.includes(X(0).slice(-10)))).toBe(true);
    const box = (await page.locator('#chart .u-over').boundingBox())!;
    for (let x = 5; x < box.width; x += 40) await page.mouse.move(box.x + x, box.y + box.height / 2);
    expect(await page.locator('#hover').textContent()).not.toBe('');
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
    await assertClean('overview');
    expect(errors).toEqual([]);
  });

  it('shows hostile experiments (ours and a peer\'s) as text, with safe links only', async () => {
    reset();
    const node = fixedSource(hostileSnapshot());
    const { dash } = await serve({}, node.source);
    await page.goto(`${dash.url}#/exp/3`);
    await page.waitForFunction(() => document.getElementById('experiment')?.dataset.id === 'exp-003-keep');
    expect(await page.locator('#exp-diff').textContent()).toContain(`+${X(5)}`);
    expect(await page.locator('#exp-log').textContent()).toContain(`log ${X(0)}`);
    expect(await page.locator('#exp-lineage').textContent()).toContain(X(0).slice(-10));
    await assertClean('own experiment');
    // Every link the lineage shows is a hash route that opens the id it names.
    const links = await page.locator('#exp-lineage a').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    for (const l of links) expect(l).toMatch(/^#\/exp\/[^#]*$/);
    await page.screenshot({ path: join(ARTIFACTS, 'own-experiment.png'), fullPage: true });

    const peerId = `evil-${X(2)}-1`;
    await page.goto(`${dash.url}#/exp/${encodeURIComponent(peerId)}`);
    await page.waitForFunction((id) => document.getElementById('experiment')?.dataset.id === id, peerId);
    expect(await page.locator('#exp-hypothesis').textContent()).toBe(X(1));
    expect(await page.locator('#exp-facts').textContent()).toContain(X(4)); // proposer
    expect(await page.locator('#exp-diff span.add').allTextContents()).toContain(`+${XSS[1]}`);
    await assertClean('peer experiment');
    // The result whose JSON carried __proto__ and constructor keys.
    const polluted = `evil-${X(11)}-10`;
    await page.goto(`${dash.url}#/exp/${encodeURIComponent(polluted)}`);
    await page.waitForFunction((id) => document.getElementById('experiment')?.dataset.id === id, polluted);
    await assertClean('__proto__ keys');
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    await page.screenshot({ path: join(ARTIFACTS, 'peer-experiment.png'), fullPage: true });

    // Records with ids that look like URLs or routes open as themselves.
    await page.goto(`${dash.url}#/`);
    await page.locator('#experiments tr[data-id="javascript:window.__pwned=10//"]').click();
    await page.waitForFunction(() => document.getElementById('experiment')?.dataset.id === 'javascript:window.__pwned=10//');
    await page.goto(`${dash.url}#/`);
    await page.locator('#experiments tr[data-id="#/exp/../../api/snapshot"]').click();
    await page.waitForFunction(() => document.getElementById('experiment')?.dataset.id === '#/exp/../../api/snapshot');
    await assertClean('ids as URLs');
    expect(errors).toEqual([]);
  });

  it('treats hostile hash routes as ids, never as markup or script', async () => {
    reset();
    const { dash } = await serve({}, fixedSource(hostileSnapshot()).source);
    await page.goto(dash.url);
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) > 0);
    const routes = [
      '#/exp/javascript:window.__pwned=1', `#/exp/${encodeURIComponent(X(0))}`, `#/exp/${X(0)}`, '#/exp/..%2F..%2Fpackage.json',
      '#/exp/../../package.json', '#/exp/__proto__', `#/exp/${'%41'.repeat(5000)}`, '#/exp/%2F%2Fevil.example%2F', '#/exp/%0d%0a',
    ];
    for (const hash of routes) {
      await page.evaluate((h) => {
        document.getElementById('exp-title')!.textContent = '';
        location.hash = h;
      }, hash);
      await page.waitForFunction(() => {
        const t = document.getElementById('exp-title')?.textContent;
        return t !== 'loading…' && t !== '';
      });
      expect(await page.locator('#exp-title').textContent(), hash).toBe('experiment not found');
      await assertClean(hash);
    }
    expect(errors).toEqual([]);
  });

  it('does not break on a malformed percent escape in the hash', async () => {
    reset();
    const { dash } = await serve({}, fixedSource(hostileSnapshot()).source);
    await page.goto(dash.url);
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) > 0);
    await page.evaluate(() => { location.hash = '#/exp/%E0%A4%A'; });
    await page.waitForFunction(() => document.getElementById('exp-title')?.textContent === 'experiment not found', undefined, { timeout: 5_000 });
    expect(errors).toEqual([]);
    await assertClean('malformed hash');
  });

  /** The charts' scales: a blank chart (a range overflowed to Infinity or NaN) shows here as a non-finite bound. */
  async function scales(which: 'chart' | 'lossChart'): Promise<number[]> {
    return page.evaluate((w) => {
      const u = (window.__dashboard as Record<string, { scales: Record<string, { min: number; max: number }> } | null>)[w];
      return u ? [u.scales.x!.min, u.scales.x!.max, u.scales.y!.min, u.scales.y!.max] : [];
    }, which);
  }
  const finite = (xs: number[]) => xs.length === 4 && xs.every((x) => typeof x === 'number' && Number.isFinite(x)) && xs[0]! <= xs[1]! && xs[2]! < xs[3]!;

  it('draws the extreme numbers a peer may send (±1e15, years 0000 and 9999) on finite scales', async () => {
    reset();
    const { dash } = await serve({}, fixedSource(peerNumbersSnapshot()).source);
    await page.goto(dash.url);
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) > 0, undefined, { timeout: 20_000 });
    await page.locator('#scope button[data-value="swarm"]').click();
    for (const mode of ['seq', 'time'] as const) {
      await page.locator(`#x-mode button[data-value="${mode}"]`).click();
      expect(Number(await page.locator('#chart').getAttribute('data-points')), mode).toBe(8);
      expect(await scales('chart'), mode).toSatisfy(finite);
      await page.screenshot({ path: join(ARTIFACTS, `peer-numbers-${mode}.png`), timeout: 20_000 });
    }
    await assertClean('peer numbers');
    expect(errors).toEqual([]);
  }, 60_000);

  it('keeps both charts drawable when our records and the printed loss hold NaN, Infinity, ±1e308 or strings', async () => {
    reset();
    const node = fixedSource(wildNumbersSnapshot());
    const { dash } = await serve({}, node.source);
    await page.goto(dash.url);
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) > 0, undefined, { timeout: 20_000 });
    // The run under test prints its loss (src/runner/parse.ts reads "loss 1e308", "loss -inf", "loss nan").
    for (const [step, loss] of [[1, 3.2], [2, 1e308], [3, -1e308], [4, Number.NaN], [5, Number.POSITIVE_INFINITY], [6, 2.9]] as const) {
      node.emit({ type: 'loop', event: { worker: 0, type: 'progress', seq: 99, step, loss, elapsedSeconds: step, fraction: step / 10 } as never });
    }
    await page.waitForFunction(() => Number(document.getElementById('loss-chart')?.dataset.points) >= 6);
    expect(await scales('chart')).toSatisfy(finite);
    expect(await scales('lossChart')).toSatisfy(finite);
    expect(await page.locator('#stats').textContent()).not.toMatch(/NaN|Infinity/);
    expect(await page.locator('#live-bar').evaluate((b) => (b as unknown as { style: { width: string } }).style.width)).toMatch(/^(0|\d+(\.\d+)?%)$/);
    await page.screenshot({ path: join(ARTIFACTS, 'wild-numbers.png'), fullPage: true, timeout: 20_000 });
    await page.goto(`${dash.url}#/exp/2`);
    await page.waitForFunction(() => document.getElementById('experiment')?.dataset.id === 'exp-002-keep');
    await assertClean('numbers');
    expect(errors).toEqual([]);
  }, 60_000);

  it('gives a page on another site no hold on the event streams (cross-site requests are refused)', async () => {
    reset();
    const { port } = await serve({}, memorySource().source);
    // The attacker's page, on another site (localhost is not 127.0.0.1), opens streams it cannot read, to fill the 16 slots.
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><script>
        const t = 'http://127.0.0.1:${port}';
        window.got = [];
        for (let i = 0; i < 20; i++) fetch(t + '/api/events', { mode: 'no-cors' }).then(() => got.push('opaque'), () => got.push('error'));
        for (let i = 0; i < 4; i++) new EventSource(t + '/api/events');
        for (let i = 0; i < 4; i++) { const img = new Image(); img.src = t + '/api/events?' + i; document.body.append(img); }
      </script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    const held: Socket[] = [];
    try {
      await page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`, { waitUntil: 'commit' });
      await page.waitForFunction(() => (window.got as unknown[]).length >= 6, undefined, { timeout: 10_000 }).catch(() => {});
      await page.waitForTimeout(500);
      // How many streams are still free: open them from here until the server says 503.
      let free = 0;
      for (; free < 17; free++) {
        const s = connect(port, '127.0.0.1');
        held.push(s);
        s.on('error', () => {});
        s.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
        const status = await new Promise<number>((r) => {
          s.once('data', (c) => r(statusOf(c.toString('latin1'))));
          setTimeout(() => r(0), 5_000);
        });
        if (status !== 200) break;
      }
      expect(16 - free, 'event streams held by the other site').toBe(0);
    } finally {
      for (const s of held) s.destroy();
      await page.goto('about:blank', { waitUntil: 'commit' }).catch(() => {});
      evil.closeAllConnections();
      await new Promise<void>((r) => evil.close(() => r()));
    }
  }, 60_000);

  it('computes the chart of 300 000 shared results without overflowing the stack', async () => {
    reset();
    const { dash } = await serve({}, fixedSource(hostileSnapshot()).source);
    await page.goto(dash.url);
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) > 0);
    // The page's own chartData (a global of its classic script) on as many rows as a peer flood could make.
    const out = await page.evaluate(() => {
      const rows = Array.from({ length: 300_000 }, (_, i) => ({ val: 1 + (i % 1000) / 1000, status: i % 2 ? 'keep' : 'discard', seq: i + 1, time: i }));
      try {
        const data = (window.chartData as (r: unknown[]) => (number | null)[][])(rows);
        return { columns: data.length, x: data[0]!.length, top: data[3]![0] };
      } catch (err) {
        return { error: String(err) };
      }
    });
    expect(out).toEqual({ columns: 5, x: 300_000, top: null });
  });

  it('renders a 10 000-record node without hanging the page', async () => {
    reset();
    const { dash } = await serve({}, fixedSource(bigSnapshot(10_000)).source);
    const t0 = Date.now();
    await page.goto(dash.url);
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.points) > 0, undefined, { timeout: 40_000 });
    expect(Date.now() - t0).toBeLessThan(40_000);
    expect(await page.locator('#experiments tbody tr').count()).toBeLessThanOrEqual(300);
    await page.locator('#scope button[data-value="swarm"]').click();
    await page.waitForFunction(() => document.getElementById('chart')?.dataset.scope === 'swarm', undefined, { timeout: 20_000 });
    // Still responsive: a trivial evaluate returns promptly.
    const t1 = Date.now();
    await page.evaluate(() => 1);
    expect(Date.now() - t1).toBeLessThan(5_000);
    await page.screenshot({ path: join(ARTIFACTS, 'ten-thousand.png'), timeout: 20_000 });
    await assertClean('10k');
    expect(errors).toEqual([]);
  }, 90_000);
});
