/** The dashboard's HTTP server: read-only GET routes, guarded as ./security.ts describes. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DashboardError, loadAssets, type Asset } from './assets.js';
import { LiveHub } from './live.js';
import { authorize, bareHost, hostAllowed, isLoopback, loginCookie, newToken, secureHeaders } from './security.js';
import type { DashboardOptions, DashboardServer, DashboardSource } from './types.js';
import { experimentView, findExperiment, snapshotView } from './view.js';

/** Experiment ids are peers' strings, only ever compared; a bound keeps the lookup cheap. */
const MAX_ID = 300;

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(head ? undefined : body);
}

const text = (res: ServerResponse, status: number, body: string, head = false) => send(res, status, 'text/plain; charset=utf-8', body + '\n', head);
const json = (res: ServerResponse, body: unknown, head: boolean) => send(res, 200, 'application/json; charset=utf-8', JSON.stringify(body), head);

interface Context { source: DashboardSource; hub: LiveHub; assets: Map<string, Asset> }

async function route(ctx: Context, url: URL, res: ServerResponse, head: boolean): Promise<void> {
  const path = url.pathname;
  const asset = ctx.assets.get(path === '/index.html' ? '/' : path);
  if (asset) return send(res, 200, asset.type, asset.body, head);
  if (path === '/api/snapshot') {
    return json(res, snapshotView(await ctx.source.snapshot(), ctx.hub.progress, ctx.hub.feed), head);
  }
  const exp = /^\/api\/experiment\/([^/]+)$/.exec(path);
  if (exp) {
    const ref = decode(exp[1]!);
    if (ref === null || ref.length === 0 || ref.length > MAX_ID) return text(res, 400, 'not an experiment id', head);
    const snap = await ctx.source.snapshot();
    const found = findExperiment(snap, ref);
    if (!found) return text(res, 404, 'no such experiment', head);
    const log = 'own' in found && ctx.source.runLog ? await ctx.source.runLog(found.own).catch(() => found.own.logTail) : 'own' in found ? found.own.logTail : [];
    return json(res, experimentView(snap, found, log), head);
  }
  if (path === '/api/events') {
    if (head) return send(res, 200, 'text/event-stream', '', true);
    if (!ctx.hub.attach(res)) text(res, 503, 'too many open dashboard pages; close one');
    return;
  }
  text(res, 404, 'not found', head);
}

function handler(ctx: Context, host: string, token: string | null, port: () => number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    secureHeaders(res);
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return text(res, 405, 'the dashboard is read-only');
    }
    if (!hostAllowed(req.headers.host, host)) return text(res, 403, 'unknown Host header: open the dashboard by the address it printed', head);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard');
    } catch {
      return text(res, 400, 'bad request', head);
    }
    // Fetch Metadata: another site (or another port of this host) may link to the page, but not read
    // the API or hold event streams open (16 at most) with requests it cannot even read.
    const site = req.headers['sec-fetch-site'];
    if (url.pathname.startsWith('/api/') && site !== undefined && site !== 'same-origin' && site !== 'none') {
      return text(res, 403, 'cross-site requests to the dashboard API are refused', head);
    }
    const auth = authorize(req, url, token, port());
    if (auth === 'denied') return text(res, 401, 'a token is required: open the URL with ?token= that the node printed', head);
    if (auth === 'login' && token !== null && !url.pathname.startsWith('/api/')) {
      // The token leaves the address bar (and the history) for a cookie this origin alone sends.
      // Always to the page itself: a path taken from the request could name another site ('//host').
      res.writeHead(303, { Location: '/', 'Set-Cookie': loginCookie(token, port()), 'Cache-Control': 'no-store' });
      return res.end();
    }
    route(ctx, url, res, head).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, `dashboard: ${(err as Error).message}`, head);
      else res.end();
    });
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bareHost(host) || '0.0.0.0', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts the dashboard; rejects (EADDRINUSE and the like) when it cannot listen. */
export async function serveDashboard(opts: DashboardOptions): Promise<DashboardServer> {
  // An empty token would let `?token=` (and an empty cookie) in: refuse it, as the config does.
  if (typeof opts.token === 'string' && opts.token.length === 0) throw new DashboardError('the dashboard token is empty', { hint: 'give a non-empty --token, or none to have one generated off loopback' });
  const assets = loadAssets();
  const token = opts.token ?? (isLoopback(opts.host) ? null : newToken());
  const hub = new LiveHub(opts.source, opts.pollMs ?? 2000, opts.log);
  let port = 0;
  const server = createServer(handler({ source: opts.source, hub, assets }, opts.host, token, () => port));
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // event streams stay open
  try {
    port = await listen(server, opts.host, opts.port);
  } catch (err) {
    hub.close();
    throw err;
  }
  const h = bareHost(opts.host);
  const shown = h === '0.0.0.0' || h === '' ? '127.0.0.1' : h === '::' ? '::1' : h;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  return {
    url, host: opts.host, port, token,
    close: () => new Promise<void>((resolve) => {
      hub.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
