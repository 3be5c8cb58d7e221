/** The dashboard server over real HTTP: routes, headers, the Host check, the token, and live events. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runLogTail, startDashboard } from '../../src/cli/dashboard.js';
import { ConfigError, silentLogger } from '../../src/core/index.js';
import { serveDashboard, type DashboardServer } from '../../src/dashboard/index.js';
import { tokenMatches } from '../../src/dashboard/security.js';
import { HOSTILE, http, memorySource, PEER_B, record, SELF } from './fixtures.js';


/** Opens /api/events and resolves with the first event of the given name. */
function nextEvent(port: number, name: string, headers: Record<string, string> = {}): { ready: Promise<void>; event: Promise<unknown>; close(): void } {
  let close = () => {};
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const event = new Promise<unknown>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/events', headers }, (res) => {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      ready();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        for (const frame of buf.split('\n\n')) {
          const m = new RegExp(`^event: ${name}\\ndata: (.*)$`).exec(frame);
          if (m) resolve(JSON.parse(m[1]!));
        }
      });
    });
    req.on('error', reject);
    req.end();
    close = () => req.destroy();
  });
  event.catch(() => {});
  return { ready: readyP, event, close: () => close() };
}

const servers: DashboardServer[] = [];
async function serve(opts: Partial<Parameters<typeof serveDashboard>[0]> = {}, node = memorySource()) {
  const dash = await serveDashboard({ source: node.source, host: '127.0.0.1', port: 0, token: null, log: silentLogger, pollMs: 100, ...opts });
  servers.push(dash);
  return { dash, node, port: dash.port };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('dashboard routes and headers', () => {
  it('serves the page, its script, style and uPlot with strict headers and no CORS', async () => {
    const { port } = await serve();
    for (const [path, type] of [['/', 'text/html'], ['/app.js', 'text/javascript'], ['/app.css', 'text/css'], ['/vendor/uPlot.iife.min.js', 'text/javascript'], ['/vendor/uPlot.min.css', 'text/css']]) {
      const r = await http(port, path!);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type']).toContain(type!);
      const csp = r.headers['content-security-policy']!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
    // The page itself holds no inline script: the CSP would refuse it, and nothing needs it.
    const page = (await http(port, '/')).body;
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/\son[a-z]+=/i);
    expect((await http(port, '/nothing')).status).toBe(404);
    expect((await http(port, '/../package.json')).status).toBe(404);
  });

  it('answers only GET and HEAD', async () => {
    const { port } = await serve();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await http(port, '/api/snapshot', { method, headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
    expect((await http(port, '/', { method: 'HEAD' })).status).toBe(200);
  });

  it('gives the snapshot: records with the skip, leaderboard per class, peers, noise, live', async () => {
    const { port } = await serve();
    const r = await http(port, '/api/snapshot');
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const snap = JSON.parse(r.body);
    expect(snap.records).toHaveLength(13);
    expect(snap.records.filter((x: { status: string }) => x.status === 'skip')).toHaveLength(1);
    expect(snap.node).toEqual({ peerId: SELF, program: expect.any(String) });
    expect(snap.leaderboard[0].hardware).toBe('AMD EPYC 7B13');
    expect(snap.leaderboard[0].entries.map((e: { standing: string }) => e.standing)).toEqual(expect.arrayContaining(['verified', 'unverified', 'disputed']));
    const peerB = snap.peers.find((p: { peer: string }) => p.peer === PEER_B);
    expect(peerB).toMatchObject({ experiments: 7, connected: true, self: false, sigma: 0.0035, lastSeen: expect.any(String) });
    expect(snap.peers.find((p: { peer: string }) => p.peer === SELF).self).toBe(true);
    expect(snap.noise[0]).toMatchObject({ sigma: 0.003, runs: 3 });
    expect(snap.live.current.seq).toBe(14);
    expect(snap.results).toHaveLength(20);
  });

  it('gives an experiment by number or id with diff, run log and lineage mapped to peers', async () => {
    const { port } = await serve();
    const six = JSON.parse((await http(port, '/api/experiment/6')).body);
    expect(six).toMatchObject({ id: 'exp-006-keep', local: true, status: 'keep', parent: { seq: 5 } });
    expect(six.diff).toContain('+LEARNING_RATE = 0.03');
    expect(six.logTail.at(-1)).toBe('log of exp-006-keep');
    expect(six.lineage).toEqual([
      { id: 'exp-003-keep', peer: SELF, seq: 3, hypothesis: HOSTILE, local: true },
      { id: 'peerB-007', peer: PEER_B, seq: null, hypothesis: 'peer B idea 7', local: false },
    ]);
    const theirs = JSON.parse((await http(port, '/api/experiment/peerB-003')).body);
    expect(theirs).toMatchObject({ local: false, peer: PEER_B, seq: null, hypothesis: 'peer B idea 3' });
    expect((await http(port, '/api/experiment/exp-999')).status).toBe(404);
    expect((await http(port, `/api/experiment/${encodeURIComponent('<script>')}`)).status).toBe(404);
    expect((await http(port, `/api/experiment/${'x'.repeat(301)}`)).status).toBe(400);
    expect((await http(port, '/api/experiment/%E0%A4%A')).status).toBe(400);
    const evil = JSON.parse((await http(port, `/api/experiment/${encodeURIComponent(`evil-${HOSTILE}`)}`)).body);
    expect(evil).toMatchObject({ id: `evil-${HOSTILE}`, hypothesis: HOSTILE, lineage: [{ id: HOSTILE, peer: null }] });
  });
});

describe('dashboard access control', () => {
  it('refuses a Host header that is not its own (DNS rebinding)', async () => {
    const { port } = await serve();
    expect((await http(port, '/api/snapshot', { headers: { Host: 'evil.example' } })).status).toBe(403);
    expect((await http(port, '/api/snapshot', { headers: { Host: `evil.example:${port}` } })).status).toBe(403);
    expect((await http(port, '/api/snapshot', { headers: { Host: `127.0.0.1.evil.example:${port}` } })).status).toBe(403);
    expect((await http(port, '/api/snapshot', { headers: { Host: `localhost:${port}` } })).status).toBe(200);
    expect((await http(port, '/api/snapshot', { headers: { Host: `127.0.0.1:${port}` } })).status).toBe(200);
    // HTTP/1.0 without any Host header.
    const raw = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.end('GET /api/snapshot HTTP/1.0\r\n\r\n'));
      let out = '';
      s.on('data', (c) => (out += c.toString()));
      s.on('close', () => resolve(out));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 403/);
  });

  it('off loopback, generates a token and asks for it: 401 without, cookie after ?token=, Bearer too', async () => {
    const { dash, port } = await serve({ host: '0.0.0.0' });
    expect(dash.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(dash.url).toBe(`http://127.0.0.1:${port}/?token=${dash.token}`);
    const token = dash.token!;
    for (const path of ['/', '/app.js', '/api/snapshot', '/api/events', '/api/experiment/1']) {
      const r = await http(port, path);
      expect(r.status, path).toBe(401);
      expect(r.body).not.toContain('exp-');
    }
    expect((await http(port, '/api/snapshot', { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await http(port, `/api/snapshot?token=${token.slice(0, -1)}`)).status).toBe(401);
    expect((await http(port, '/api/snapshot', { headers: { Cookie: `swarm_dashboard_${port}=${token}x` } })).status).toBe(401);
    // Another port's cookie (another dashboard on this host) is not this one's.
    expect((await http(port, '/api/snapshot', { headers: { Cookie: `swarm_dashboard_${port + 1}=${token}` } })).status).toBe(401);
    expect((await http(port, '/api/snapshot', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    const login = await http(port, `/?token=${token}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    expect((await http(port, `//evil.example/?token=${token}`)).headers.location).toBe('/');
    const cookie = login.headers['set-cookie']![0]!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const r = await http(port, '/', { headers: { Cookie: cookie.split(';')[0]! } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('text/html');
    // Bound to every interface, any Host name may be right, so the token is the guard there.
    expect((await http(port, '/api/snapshot', { headers: { Host: 'box.lan:8470' } })).status).toBe(401);
  });

  it('on loopback, asks for a token only when one is configured', async () => {
    const { dash, port } = await serve({ token: 's3cret-token' });
    expect(dash.url).toContain('?token=s3cret-token');
    expect((await http(port, '/api/snapshot')).status).toBe(401);
    expect((await http(port, '/api/snapshot?token=s3cret-token')).status).toBe(200);
  });

  it('compares tokens whole', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    for (const wrong of ['ab', 'abcd', 'abd', '', null, undefined]) expect(tokenMatches(wrong, 'abc')).toBe(false);
  });
});

describe('dashboard live events', () => {
  it('polls a source without subscribe and pushes an update when the snapshot changed', async () => {
    const node = memorySource({ subscribe: false });
    const { port } = await serve({}, node);
    const sse = nextEvent(port, 'update');
    await sse.ready;
    await new Promise((r) => setTimeout(r, 300)); // a first poll sees the data as it is
    node.data.records.push(record(14, 'discard', 1.9, 'a new one'));
    await expect(sse.event).resolves.toEqual({ reason: 'snapshot' });
    sse.close();
    // The poll also wrote the new result into the feed.
    await vi.waitFor(async () => {
      expect(JSON.parse((await http(port, '/api/snapshot')).body).feed.map((f: { message: string }) => f.message)).toContain('#14 discard 1.900000 — a new one (no gain)');
    });
  });

  it("forwards the source's loop events and log lines", async () => {
    const { port, node } = await serve();
    const log = nextEvent(port, 'log');
    const progress = nextEvent(port, 'loop');
    await Promise.all([log.ready, progress.ready]);
    node.loop({ worker: 0, type: 'progress', seq: 14, step: 10, loss: 3.5, elapsedSeconds: 4, fraction: 0.1 });
    await expect(progress.event).resolves.toEqual({ worker: 0, type: 'progress', seq: 14, step: 10, loss: 3.5, elapsedSeconds: 4, fraction: 0.1 });
    node.emit({ type: 'log', level: 'warn', message: HOSTILE, at: '2026-12-01T19:00:00.000Z' });
    await expect(log.event).resolves.toEqual({ at: '2026-12-01T19:00:00.000Z', level: 'warn', message: HOSTILE });
    const update = nextEvent(port, 'update');
    await update.ready;
    node.loop({ worker: 0, type: 'finish', record: record(14, 'keep', 1.7, 'x') });
    await expect(update.event).resolves.toEqual({ reason: 'finish' });
    const snap = JSON.parse((await http(port, '/api/snapshot')).body);
    expect(snap.progress).toEqual([{ step: 10, loss: 3.5, elapsedSeconds: 4 }]);
    for (const s of [log, progress, update]) s.close();
  });

  it('starts a new loss curve for each run, noise runs and replications included, and feeds what the log does not tell', async () => {
    const { port, node } = await serve();
    const progress = async () => JSON.parse((await http(port, '/api/snapshot')).body) as { progress: { step: number }[]; feed: { message: string }[] };
    node.loop({ worker: 0, type: 'progress', seq: 14, step: 10, loss: 3.5, elapsedSeconds: 4, fraction: 0.1 });
    node.loop({ worker: 0, type: 'run', kind: 'noise', label: 'noise run 1 of 2 (seed 1001)', expectedSeconds: 30 });
    node.loop({ worker: 0, type: 'progress', seq: 0, step: 5, loss: 4, elapsedSeconds: 1, fraction: null });
    node.loop({ worker: 0, type: 'progress', seq: 0, step: 6, loss: 3.9, elapsedSeconds: 2, fraction: null });
    expect((await progress()).progress.map((p) => p.step)).toEqual([5, 6]);
    node.loop({ worker: 0, type: 'ran', kind: 'noise', label: 'noise run 1 of 2 (seed 1001)', outcome: 'ok', valBpb: 1.8 });
    node.loop({ worker: 0, type: 'run', kind: 'replication', label: 'replicating x of peer BBBBBBBB', expectedSeconds: 30 });
    expect((await progress()).progress).toEqual([]);
    node.loop({ worker: 0, type: 'ran', kind: 'replication', label: 'replicating x of peer BBBBBBBB', outcome: 'ok', valBpb: 1.75 });
    node.loop({ worker: 0, type: 'finish', record: record(15, 'skip', null, 'batch 16') });
    node.loop({ worker: 0, type: 'finish', record: record(16, 'crash', null, 'mlp 8') });
    // Noise runs, starts and skips come as log lines from the node; the feed does not repeat them.
    expect((await progress()).feed.map((f) => f.message)).toEqual(['replicating x of peer BBBBBBBB: ok, measured 1.750000', '#16 crash - — mlp 8 (exit code 1)']);
  });

  it('shows every worker: its device, its run and its own loss curve, in the snapshot and the event stream', async () => {
    const { port, node } = await serve({}, memorySource({ devices: ['cuda:0', 'cuda:1'] }));
    type Snap = { live: { current: { seq: number } }; workers: { worker: number; device: string; current: { seq: number; fraction: number } | null; progress: { step: number }[] }[]; progress: { step: number }[] };
    const snapshot = async () => JSON.parse((await http(port, '/api/snapshot')).body) as Snap;
    const started = nextEvent(port, 'loop');
    await started.ready;
    node.loop({ worker: 1, type: 'start', record: { ...record(15, 'keep', null, 'warmup 200 steps'), status: 'running', metrics: null }, expectedSeconds: 30 });
    // Pages learn which worker a run started on, from the cut-down record too.
    await expect(started.event).resolves.toEqual({ type: 'start', worker: 1, id: 'exp-015-keep', seq: 15, status: 'running', hypothesis: 'warmup 200 steps', val_bpb: null });
    started.close();
    for (const step of [10, 20]) node.loop({ worker: 0, type: 'progress', seq: 14, step, loss: 3.5, elapsedSeconds: 4, fraction: 0.1 });
    for (const step of [5, 6, 7]) node.loop({ worker: 1, type: 'progress', seq: 15, step, loss: 4, elapsedSeconds: 1, fraction: null });
    const snap = await snapshot();
    expect(snap.workers.map((w) => [w.worker, w.device, w.current?.seq, w.current?.fraction])).toEqual([[0, 'cuda:0', 14, 0.4], [1, 'cuda:1', 15, 0.6]]);
    expect(snap.workers.map((w) => w.progress.map((p) => p.step))).toEqual([[10, 20], [5, 6, 7]]);
    // Old pages draw one curve: the first busy worker's.
    expect(snap.progress.map((p) => p.step)).toEqual([10, 20]);
    // A new run on worker 0 starts its curve afresh; worker 1's goes on.
    node.loop({ worker: 0, type: 'run', kind: 'noise', label: 'noise run 1 of 2 (seed 3)', expectedSeconds: 30 });
    expect((await snapshot()).workers.map((w) => w.progress.length)).toEqual([0, 3]);
  });

  it('follows each worker of a polled node, and passes on only well-formed workers', async () => {
    const node = memorySource({ subscribe: false, devices: ['cuda:0', 'cuda:1'] });
    const live = node.data.live!;
    const junk = [
      { worker: -1, device: 'x', current: null }, { worker: 1.5, device: 'x', current: null }, { worker: '2', device: 'x', current: null },
      { worker: 1e9, device: 'x', current: null }, { worker: 1, device: 'duplicate', current: null }, { worker: 3, device: 'x', current: 'running' }, null,
      { worker: 4, device: 'd'.repeat(500), current: null },
    ];
    live.workers.push(...(junk as never[]));
    const { port } = await serve({}, node);
    type Snap = { workers: { worker: number; device: string; progress: { step: number }[] }[] };
    const snapshot = async () => JSON.parse((await http(port, '/api/snapshot')).body) as Snap;
    const sse = nextEvent(port, 'update');
    await sse.ready;
    await vi.waitFor(async () => expect((await snapshot()).workers[1]!.progress.map((p) => p.step)).toEqual([60]));
    live.workers[1]!.current = { ...live.workers[1]!.current!, step: 80, loss: 2.9 };
    await vi.waitFor(async () => expect((await snapshot()).workers[1]!.progress.map((p) => p.step)).toEqual([60, 80]));
    const snap = await snapshot();
    expect(snap.workers.map((w) => [w.worker, w.device.length])).toEqual([[0, 6], [1, 6], [4, 64]]);
    expect(snap.workers[0]!.progress.map((p) => p.step)).toEqual([40]);
    sse.close();
  });

  it('stops listening to the source when closed', async () => {
    const node = memorySource();
    const dash = await serveDashboard({ source: node.source, host: '127.0.0.1', port: 0, token: null, log: silentLogger });
    expect(node.listeners.size).toBe(1);
    await dash.close();
    expect(node.listeners.size).toBe(0);
  });
});

describe('startDashboard', () => {
  it("returns null for 'off', refuses a malformed address, and moves off a taken port", async () => {
    const warn = vi.fn();
    const log = { ...silentLogger, warn };
    const { source } = memorySource();
    expect(await startDashboard({ listen: 'off', token: null, source, log })).toBeNull();
    await expect(startDashboard({ listen: 'localhost', token: null, source, log })).rejects.toBeInstanceOf(ConfigError);
    await expect(startDashboard({ listen: '127.0.0.1:99999', token: null, source, log })).rejects.toBeInstanceOf(ConfigError);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const dash = (await startDashboard({ listen: `127.0.0.1:${taken}`, token: null, source, log }))!;
      servers.push({ ...dash, host: '127.0.0.1', port: 0, token: null });
      expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(dash.url).not.toContain(`:${taken}/`);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`port ${taken} is taken`));
      expect((await http(Number(new URL(dash.url).port), '/api/snapshot')).status).toBe(200);
    } finally {
      blocker.close();
    }
  });

  it('reads the tail of a run log from its file, else the record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarm-dash-log-'));
    try {
      const path = join(dir, 'run.log');
      await writeFile(path, Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n') + '\n');
      const r = record(2, 'discard', 1.9, 'x', { logPath: path });
      const tail = await runLogTail(r, 50);
      expect(tail).toHaveLength(50);
      expect(tail[0]).toBe('line 450');
      expect(tail.at(-1)).toBe('line 499');
      expect(await runLogTail({ ...r, logPath: join(dir, 'gone.log') })).toEqual(r.logTail);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
