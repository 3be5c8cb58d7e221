/**
 * Periodic anti-entropy (docs/protocol.md §5.1). Sync on connect (§5) repairs what a node missed
 * while apart from a peer; a record lost on gossip while both stay connected (a dropped message, a
 * publish that reached nobody, a withholding mesh peer) would otherwise stay missing. So every
 * period a node compares a digest of its per-origin contiguous high-water marks with a few peers'
 * and, where they differ, pulls what it lacks through the ordinary sync protocol.
 *
 * The digest makes a round with a peer that holds the same records cost two frames of ~80 bytes;
 * a peer already pulled from at its current digest is not pulled from again, so a peer that is
 * behind (or lies about its digest without changing it) costs no sync either.
 */
import { canonicalJson } from './canonical.js';
import { sha256Hex } from './records.js';

export const ANTI_ENTROPY = {
  /** Mean time between rounds; each wait is drawn uniformly from [0.5, 1.5] × this. */
  periodMs: 30_000,
  /** Peers asked per round (least recently asked first), so a well-connected node's cost is bounded. */
  peersPerRound: 8,
  /** Largest digest request or response frame. */
  maxMessageBytes: 256,
} as const;

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * sha256 hex of the canonical JSON (§3.9) of `known`: origin peer id → the highest seq s such that
 * every record 1..s of that origin is held; origins at 0 are left out. Equal digests mean the
 * same contiguous marks.
 */
export function summaryDigest(known: Record<string, number>): string {
  const held = Object.fromEntries(Object.entries(known).filter(([, s]) => s >= 1));
  return sha256Hex(new TextEncoder().encode(canonicalJson(held)));
}

/** The one message of the digest protocol, both directions: `{"digest":"<64 lowercase hex>"}`. */
export function encodeDigestMessage(digest: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ digest }));
}

/** Parses a digest message; throws on anything else (another key, a BOM, upper-case hex, …). */
export function parseDigestMessage(bytes: Uint8Array): string {
  if (bytes.byteLength > ANTI_ENTROPY.maxMessageBytes) throw new Error('digest message: too large');
  const v = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)) as unknown;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length !== 1) {
    throw new Error('digest message: expected {"digest": <sha256 hex>}');
  }
  const digest = (v as { digest?: unknown }).digest;
  if (typeof digest !== 'string' || !HEX64.test(digest)) throw new Error('digest message: expected {"digest": <sha256 hex>}');
  return digest;
}

export interface AntiEntropyInit {
  /** Mean period; 0 turns periodic rounds off (answers are still given). */
  periodMs: number;
  peersPerRound?: number;
  /** This node's contiguous high-water marks (what its sync requests send as `after`). */
  known(): Record<string, number>;
  /** Connected peers that speak the digest protocol. */
  peers(): string[];
  /** Sends our digest to `peer` and returns its digest (validated). */
  ask(peer: string, digest: string): Promise<string>;
  /** Pulls from `peer` through sync what this node lacks; resolves with how many records were new. */
  pull(peer: string): Promise<number>;
  /** Peers with a sync or a round in flight, shared with the catch-up on connect: one per peer at a time. */
  busy: Set<string>;
  log: { info(m: string): void; warn(m: string): void };
}

export class AntiEntropy {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Peer → when its last round started. */
  private readonly lastRound = new Map<string, number>();
  /** Peer → its digest when a pull from it last completed: nothing more to get while it stays so. */
  private readonly pulledAt = new Map<string, string>();

  constructor(private readonly init: AntiEntropyInit) {}

  start(): void {
    if (this.init.periodMs > 0) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * Answers a peer's digest with ours. When they differ the peer may hold what we lack, so a round
   * toward it starts now rather than at the next tick, at most once per half period per peer (a
   * peer sending digests in a loop cannot make us sync in a loop).
   */
  answer(peer: string, theirs: string): string {
    const ours = summaryDigest(this.init.known());
    const recent = Date.now() - (this.lastRound.get(peer) ?? 0) < this.init.periodMs / 2;
    if (theirs !== ours && this.init.periodMs > 0 && !recent) void this.round(peer);
    return ours;
  }

  /** One tick: a round with each of the least recently asked idle peers, up to peersPerRound. */
  tick(): void {
    const live = this.init.peers();
    const idle = live.filter((p) => !this.init.busy.has(p));
    for (const p of this.lastRound.keys()) if (!live.includes(p)) this.forget(p);
    idle.sort((a, b) => (this.lastRound.get(a) ?? 0) - (this.lastRound.get(b) ?? 0));
    for (const peer of idle.slice(0, this.init.peersPerRound ?? ANTI_ENTROPY.peersPerRound)) void this.round(peer);
  }

  private schedule(): void {
    if (this.stopped) return;
    const wait = this.init.periodMs * (0.5 + Math.random());
    this.timer = setTimeout(() => {
      this.tick();
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  private forget(peer: string): void {
    this.lastRound.delete(peer);
    this.pulledAt.delete(peer);
  }

  private async round(peer: string): Promise<void> {
    const { busy, log } = this.init;
    if (this.stopped || busy.has(peer)) return;
    busy.add(peer);
    this.lastRound.set(peer, Date.now());
    try {
      const ours = summaryDigest(this.init.known());
      const theirs = await this.init.ask(peer, ours);
      if (theirs === ours || this.pulledAt.get(peer) === theirs || this.stopped) return;
      const n = await this.init.pull(peer);
      this.pulledAt.set(peer, theirs);
      if (n > 0) log.info(`p2p: anti-entropy repaired ${n} record(s) from ${peer}`);
    } catch (err) {
      if (!this.stopped) log.warn(`p2p: anti-entropy with ${peer} failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      busy.delete(peer);
    }
  }
}
