/**
 * Discovery beyond the bootstrap list: every node of a research program announces itself as a
 * provider of one program key on the program's own DHT and dials the other providers it finds.
 */
import './shim.js';
import { createHash } from 'node:crypto';
import { CID } from 'multiformats/cid';
import { create as digestOf } from 'multiformats/hashes/digest';
import type { Libp2p } from '@libp2p/interface';

export interface DiscoveryLog {
  info(m: string): void;
  warn(m: string): void;
}

export const DISCOVERY = {
  /** How often providers of the program key are looked up. */
  findMs: 15_000,
  /** How often this node announces itself again (the DHT forgets providers after 48 h; relays restart). */
  provideMs: 5 * 60_000,
  /** Limit of one lookup or announcement. */
  queryTimeoutMs: 20_000,
  /** Providers dialled per lookup; the rest wait for the next round. */
  maxDialsPerRound: 16,
} as const;

const RAW = 0x55;
const SHA2_256 = 0x12;

/** The DHT key a program's nodes provide: CIDv1 raw of sha256("swarm/1/<program>"). */
export function programKey(programId: string): CID {
  const hash = createHash('sha256').update(`swarm/1/${programId}`).digest();
  return CID.createV1(RAW, digestOf(SHA2_256, new Uint8Array(hash)));
}

export interface Discovery {
  /** Announce again at the next round (call after (re)connecting to a bootstrap peer). */
  refresh(): void;
  stop(): void;
}

const errMsg = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function startDiscovery(node: Libp2p, programId: string, log: DiscoveryLog, findMs: number = DISCOVERY.findMs): Discovery {
  const key = programKey(programId);
  let lastProvide = 0;
  let stopped = false;
  let busy = false;

  const provide = async (): Promise<void> => {
    await node.contentRouting.provide(key, { signal: AbortSignal.timeout(DISCOVERY.queryTimeoutMs) });
    lastProvide = Date.now();
  };
  const find = async (): Promise<void> => {
    let dials = 0;
    for await (const p of node.contentRouting.findProviders(key, { signal: AbortSignal.timeout(DISCOVERY.queryTimeoutMs) })) {
      if (stopped || dials >= DISCOVERY.maxDialsPerRound) break;
      if (p.id.equals(node.peerId) || node.getConnections(p.id).length > 0) continue;
      dials++;
      if (p.multiaddrs.length > 0) await node.peerStore.merge(p.id, { multiaddrs: p.multiaddrs }).catch(() => undefined);
      node.dial(p.id, { signal: AbortSignal.timeout(DISCOVERY.queryTimeoutMs) })
        .then(() => log.info(`p2p: connected to ${p.id.toString()}, found on the program's DHT`))
        .catch((err: unknown) => {
          if (!stopped) log.warn(`p2p: dial ${p.id.toString()} (found on the DHT at ${p.multiaddrs.map(String).join(' ') || 'no address'}): ${errMsg(err)}`);
        });
    }
  };
  const round = async (): Promise<void> => {
    if (stopped || busy || node.getPeers().length === 0) return;
    busy = true;
    try {
      if (Date.now() - lastProvide > DISCOVERY.provideMs) await provide().catch((err: unknown) => log.warn(`p2p: DHT announce: ${errMsg(err)}`));
      await find().catch((err: unknown) => log.warn(`p2p: DHT lookup: ${errMsg(err)}`));
    } finally {
      busy = false;
    }
  };
  // DHT servers hand out the addresses a provider had when it announced itself: announce again
  // whenever ours change (a relay reservation made or lost), or others keep dialling stale ones.
  let announced = '';
  const onSelfUpdate = (): void => {
    const now = node.getMultiaddrs().map(String).sort().join(' ');
    if (now !== announced) {
      announced = now;
      lastProvide = 0;
    }
  };
  node.addEventListener('self:peer:update', onSelfUpdate);
  const timer = setInterval(() => void round(), findMs);
  timer.unref();
  const first = setTimeout(() => void round(), Math.min(2_000, findMs));
  first.unref();
  return {
    refresh() {
      lastProvide = 0;
    },
    stop() {
      stopped = true;
      node.removeEventListener('self:peer:update', onSelfUpdate);
      clearInterval(timer);
      clearTimeout(first);
    },
  };
}
