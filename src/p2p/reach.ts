/**
 * Reaching peers across NATs, built from libp2p's own parts: circuit relay v2 (client always,
 * server opt-in), DCUtR, AutoNAT v2, UPnP (opt-in), a program-scoped Kademlia DHT for discovery,
 * and connection-manager maximums. `createSwarmNet` spreads what these builders return into
 * `createLibp2p`; every number here is documented in docs/protocol.md §2 and docs/internet.md.
 */
import './shim.js';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { dcutr } from '@libp2p/dcutr';
import { autoNATv2 } from '@libp2p/autonat-v2';
import { uPnPNAT } from '@libp2p/upnp-nat';
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht';
import { ping } from '@libp2p/ping';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { SwarmError } from '../core/errors.js';

/** What a relay server grants each peer that reserves a slot on it. */
export interface RelayLimits {
  /** Peers that may hold a reservation at once. */
  slots: number;
  /** Seconds one relayed connection may stay open before the relay closes it. */
  durationSeconds: number;
  /** Bytes (both directions together) one relayed connection may carry before the relay closes it. */
  bytes: number;
}

export const RELAY_DEFAULTS: RelayLimits = { slots: 32, durationSeconds: 600, bytes: 4 * 1024 * 1024 };

/** Connection-manager maximums (libp2p's own defaults are far larger: 300 connections). */
export const CONNECTION_DEFAULTS = {
  maxConnections: 128,
  /** Inbound connections still negotiating encryption/muxer at once. */
  maxIncomingPendingConnections: 16,
  /** Inbound connections per second from one host before further ones are refused. */
  inboundConnectionThreshold: 8,
  /** Dials across all peers at once. */
  maxParallelDials: 32,
  dialTimeoutMs: 10_000,
} as const;

export interface ReachOptions {
  /** Offer to relay for others (publicly reachable boxes only); `true` takes RELAY_DEFAULTS. */
  relayServer?: boolean | Partial<RelayLimits>;
  /** Reserve a slot on a relay and announce the relayed address (default true unless relayServer). */
  relayReserve?: boolean;
  /** Ask the router to forward a port by UPnP IGD (opt-in). */
  upnp?: boolean;
  /** Program-scoped DHT discovery (default true). */
  dht?: boolean;
  /** Public multiaddrs that reach this box's listen port (a port the router forwards); announced besides the others. */
  forwarded?: string[];
  /** Default CONNECTION_DEFAULTS.maxConnections. */
  maxConnections?: number;
}

/** The DHT protocol of one research program: peers of other programs never share a routing table. */
export function dhtProtocol(programId: string): string {
  return `/swarm/1/${programId}/kad/1.0.0`;
}

export function relayLimits(opt: ReachOptions['relayServer']): RelayLimits | null {
  if (opt === undefined || opt === false) return null;
  return { ...RELAY_DEFAULTS, ...(opt === true ? {} : opt) };
}

/** Extra listen addresses: `/p2p-circuit` makes the relay transport reserve one slot on a relay it is connected to. */
export function reachListen(opts: ReachOptions): string[] {
  const reserve = opts.relayReserve ?? relayLimits(opts.relayServer) === null;
  return reserve ? ['/p2p-circuit'] : [];
}

export function reachTransports() {
  return [circuitRelayTransport({ reservationCompletionTimeout: 10_000 })];
}

export function reachConnectionManager(opts: ReachOptions) {
  return {
    maxConnections: opts.maxConnections ?? CONNECTION_DEFAULTS.maxConnections,
    maxIncomingPendingConnections: CONNECTION_DEFAULTS.maxIncomingPendingConnections,
    inboundConnectionThreshold: CONNECTION_DEFAULTS.inboundConnectionThreshold,
    maxParallelDials: CONNECTION_DEFAULTS.maxParallelDials,
    dialTimeout: CONNECTION_DEFAULTS.dialTimeoutMs,
  };
}

/**
 * libp2p services for reachability. The DHT keeps every address a peer reports
 * (passthroughMapper): swarms on one LAN or one machine find each other the same way as across
 * the internet, and the dialler tries public addresses first.
 */
export function reachServices(programId: string, opts: ReachOptions) {
  const limits = relayLimits(opts.relayServer);
  return {
    ping: ping(),
    dcutr: dcutr(),
    autoNAT: autoNATv2(),
    ...(opts.dht === false ? {} : {
      dht: kadDHT({ protocol: dhtProtocol(programId), peerInfoMapper: passthroughMapper }),
    }),
    ...(opts.upnp ? { upnp: uPnPNAT() } : {}),
    ...(limits ? {
      relay: circuitRelayServer({
        reservations: {
          maxReservations: limits.slots,
          defaultDurationLimit: limits.durationSeconds * 1000,
          defaultDataLimit: BigInt(limits.bytes),
        },
      }),
    } : {}),
  };
}

/**
 * Bytes a request may still move over the connections to a peer: undefined when one of them is
 * direct (unlimited), else the largest remaining relay allowance.
 */
export function relayBudget(conns: readonly Connection[]): number | undefined {
  if (conns.length === 0 || conns.some((c) => c.limits === undefined)) return undefined;
  let best = 0;
  for (const c of conns) {
    const b = c.limits?.bytes;
    if (b === undefined) return undefined;
    best = Math.max(best, Number(b));
  }
  return best;
}

/** No connection to a peer and no address to dial it at. */
export class NoRouteError extends SwarmError {}

/**
 * Opens a protocol stream to a peer on a connection it already has, a direct one first, else a
 * relayed one (libp2p's own dial never reuses a relayed connection and would open a new circuit
 * for every request). Dials only when there is none; a peer without any known address fails at
 * once (finding addresses is the discovery loop's job, not a request's).
 */
export async function openStream(node: Libp2p, id: PeerId, protocol: string, signal: AbortSignal): Promise<{ stream: Stream; budget: number | undefined }> {
  const open = node.getConnections(id).filter((c) => c.status === 'open');
  let conn = open.find((c) => c.limits === undefined) ?? open[0];
  if (conn === undefined) {
    const known = await node.peerStore.get(id).catch(() => undefined);
    if ((known?.addresses.length ?? 0) === 0) throw new NoRouteError(`no connection to ${id.toString()} and no address known for it`);
    conn = await node.dial(id, { signal });
  }
  const stream = await conn.newStream(protocol, { signal, runOnLimitedConnection: true });
  return { stream, budget: relayBudget([conn]) };
}
