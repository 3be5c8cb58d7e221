/** A swarm node running test/fixtures/nat/box.mjs inside a namespace of a NetLab, driven by JSON lines. */
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NetLab } from './netns.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/nat/box.mjs', import.meta.url));

export interface BoxPeer { id: string; connected: boolean; relayed: boolean; addresses: string[] }
export interface BoxStatus { peers: BoxPeer[]; known: Record<string, number>; records: number; addresses: string[] }
export interface BoxRecord { peer: string; seq: number; from: string; at: number }

export interface BoxConfig {
  dir: string;
  program: string;
  listen: string[];
  announce?: string[];
  bootstrap: string[];
  reach: Record<string, unknown>;
  discoveryMs?: number;
}

export class Box {
  peerId = '';
  readonly records: BoxRecord[] = [];
  private readonly log: string[] = [];
  private readonly pending = new Map<number, (v: Record<string, unknown>) => void>();
  private nextId = 1;
  private child: ChildProcess | null = null;

  constructor(private readonly lab: NetLab, readonly ns: string, readonly name: string, readonly config: BoxConfig) {}

  async start(): Promise<void> {
    const child = this.lab.spawnNode(this.ns, [SCRIPT, JSON.stringify(this.config)]);
    this.child = child;
    createInterface({ input: child.stderr! }).on('line', (l) => {
      this.log.push(l);
      if (this.log.length > 200) this.log.shift();
      if (process.env.SWARM_NAT_DEBUG) console.log(`[${this.name}] ${l}`);
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${this.name} exited with ${code}:\n${this.tail()}`)));
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const m = JSON.parse(l) as Record<string, unknown>;
        if (m.ev === 'ready') {
          this.peerId = m.peerId as string;
          resolve();
        } else if (m.ev === 'record') {
          this.records.push(m as unknown as BoxRecord);
        } else if (typeof m.id === 'number') {
          this.pending.get(m.id)?.(m);
          this.pending.delete(m.id);
        }
      });
    });
    await ready;
  }

  async call<T = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    const answer = new Promise<Record<string, unknown>>((res) => this.pending.set(id, res));
    this.child!.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    const m = await answer;
    if (typeof m.error === 'string') throw new Error(`${this.name} ${op}: ${m.error}`);
    return m as T;
  }

  status(): Promise<BoxStatus> {
    return this.call<BoxStatus>('status');
  }

  async peer(id: string): Promise<BoxPeer | undefined> {
    return (await this.status()).peers.find((p) => p.id === id && p.connected);
  }

  /** Stops the process (SIGTERM, as a user's Ctrl-C) and waits for it. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((res) => c.once('exit', () => res()));
    c.kill('SIGTERM');
    await gone;
  }

  tail(): string {
    return this.log.slice(-40).join('\n');
  }
}

/** Polls `cond` until it holds; the error names what was awaited and shows the boxes' logs. */
export async function until(what: string, cond: () => Promise<boolean> | boolean, ms: number, boxes: Box[] = []): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - start;
    if (Date.now() - start > ms) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}\n${boxes.map((b) => `--- ${b.name}\n${b.tail()}`).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
