import { chmod, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import type { ExperimentRecord, NoiseFloor } from '../core/index.js';

/**
 * A running node holds its LevelDB store exclusively, so `swarm status` / `log` / `show` in another
 * terminal ask the node itself, over an HTTP server on a Unix socket in the state folder.
 */
export function controlSocketPath(stateDir: string): string {
  return join(stateDir, 'control.sock');
}

/** A run in flight on one worker. */
export interface LiveRun {
  /** An experiment (the baseline is the first), or a run that is not one: a noise run, a replication. */
  kind: 'baseline' | 'experiment' | 'noise' | 'replication';
  /** The experiment's number; null for noise runs and replications. */
  seq: number | null;
  /** The experiment's hypothesis, or what the run is ("noise run 1 of 2 (seed 1001)"). */
  hypothesis: string;
  step: number | null;
  loss: number | null;
  /** Training time so far, as the run reports it. */
  elapsedSeconds: number;
  /** Wall time since the run started (start-up and evaluation included). */
  wallSeconds: number;
  /** The budget in its mode, e.g. "300 s" or "150k tokens". */
  budget: string;
  /** Share of the budget done (0..1), as the run reports it; null until it says. */
  fraction: number | null;
  /** How long a run took here lately; null before the first. */
  expectedSeconds: number | null;
}

/** What a running node is doing right now. */
export interface LiveStatus {
  pid: number;
  startedAt: string;
  /** The first busy worker's run, if any (what readers from before workers read). */
  current: LiveRun | null;
  /** Every worker of the node, in order: its device ("cuda:0", "cpu") and its run in flight. */
  workers: { worker: number; device: string; current: LiveRun | null }[];
  /** What comes after the runs in flight, e.g. "noise run 2 of 2, then the first experiment". */
  next: string | null;
  /** Seconds until the last thing `next` names starts, estimated from how long runs took here lately. */
  nextIn: number | null;
  /** The swarm side: this node's peer id, addresses others can dial, and its peers. */
  swarm: { peerId: string; program: string; addresses: string[]; peers: { id: string; connected: boolean }[]; dropped: Record<string, number> } | null;
}

export interface ControlServer {
  close(): Promise<void>;
}

export interface ControlHandlers {
  records(): Promise<ExperimentRecord[]>;
  /** Signed swarm records held by the node. */
  shared(): Promise<unknown[]>;
  /** Noise floors measured by the node. */
  noise(): Promise<NoiseFloor[]>;
  status(): LiveStatus;
  /** Re-runs an experiment between the node's runs (`swarm verify`) and answers with the comparison. */
  verify(ref: string): Promise<unknown>;
}

export async function serveControl(stateDir: string, handlers: ControlHandlers): Promise<ControlServer> {
  const path = controlSocketPath(stateDir);
  // A socket left by a node killed with -9; we hold the store's lock, so no live node owns it.
  await rm(path, { force: true });
  const server = createServer((req, res) => {
    const reply = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const fail = (err: Error) => {
      res.writeHead(500).end(err.message);
    };
    if (req.method === 'POST' && req.url === '/verify') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let ref: unknown;
        try {
          ref = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ref?: unknown }).ref;
        } catch {
          ref = undefined;
        }
        if (typeof ref !== 'string') return void res.writeHead(400).end('expected {"ref": "<experiment>"}');
        handlers.verify(ref).then(reply, fail);
      });
      return;
    }
    if (req.method === 'GET' && req.url === '/records') {
      handlers.records().then(reply, fail);
    } else if (req.method === 'GET' && req.url === '/shared') {
      handlers.shared().then(reply, fail);
    } else if (req.method === 'GET' && req.url === '/noise') {
      handlers.noise().then(reply, fail);
    } else if (req.method === 'GET' && req.url === '/status') {
      reply(handlers.status());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  // Only this user may ask the node for anything (a verify runs code); the run policy still applies to what it asks.
  await chmod(path, 0o600);
  return {
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export function queryControl<T>(stateDir: string, route: '/records' | '/shared' | '/noise' | '/status', timeoutMs = 5000): Promise<T> {
  return call<T>(stateDir, 'GET', route, undefined, timeoutMs);
}

/** Asks the running node to re-run an experiment; waits as long as that takes (0: no timeout). */
export function requestVerify<T>(stateDir: string, ref: string): Promise<T> {
  return call<T>(stateDir, 'POST', '/verify', JSON.stringify({ ref }), 0);
}

function call<T>(stateDir: string, method: 'GET' | 'POST', route: string, body: string | undefined, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlSocketPath(stateDir), path: route, method, ...(timeoutMs > 0 ? { timeout: timeoutMs } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`node answered ${res.statusCode}: ${text}`));
        try {
          resolve(JSON.parse(text) as T);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('the running node did not answer in time')));
    req.on('error', reject);
    req.end(body);
  });
}
