import { rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import type { ExperimentRecord } from '../core/index.js';

/**
 * A running node holds its LevelDB store exclusively, so `swarm status` / `log` / `show` in another
 * terminal ask the node itself, over an HTTP server on a Unix socket in the state folder.
 */
export function controlSocketPath(stateDir: string): string {
  return join(stateDir, 'control.sock');
}

/** What a running node is doing right now. */
export interface LiveStatus {
  pid: number;
  startedAt: string;
  /** The experiment in flight, if any. */
  current: { seq: number; hypothesis: string; step: number | null; loss: number | null; elapsedSeconds: number; budget: number } | null;
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
  status(): LiveStatus;
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
    if (req.method === 'GET' && req.url === '/records') {
      handlers.records().then(reply, fail);
    } else if (req.method === 'GET' && req.url === '/shared') {
      handlers.shared().then(reply, fail);
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
  return {
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export function queryControl<T>(stateDir: string, route: '/records' | '/shared' | '/status', timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlSocketPath(stateDir), path: route, method: 'GET', timeout: timeoutMs }, (res) => {
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
    req.end();
  });
}
