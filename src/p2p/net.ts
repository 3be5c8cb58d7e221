/** The swarm's libp2p node: gossip of signed records, anti-entropy sync and content fetch. */
import './shim.js';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { mdns } from '@libp2p/mdns';
import { preSharedKey } from '@libp2p/pnet';
import { gossipsub, TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { IdentifyResult, PeerId } from '@libp2p/interface';
import { SwarmError } from '../core/errors.js';
import { loadOrCreateIdentity, SeqCounter } from './identity.js';
import {
  checkRecord, decodeRecord, encodeRecord, sha256Hex, signRecord, validateRecord, LIMITS,
  DROP_REASONS, type DraftRecord, type DropReason, type RecordType, type SignedRecord, type UnsignedRecord,
} from './records.js';
import { SeqTracker } from './tracker.js';
import { parseSwarmKey } from './pnet.js';
import { gossipsubOptions } from './scoring.js';
import { AntiEntropy, ANTI_ENTROPY, encodeDigestMessage, parseDigestMessage } from './antientropy.js';
import { exchange, serve, FETCH_FOUND, FETCH_NOT_FOUND, WIRE } from './wire.js';

export interface P2PLog {
  info(m: string): void;
  warn(m: string): void;
}

/** What this node serves to others, backed by the caller's store. */
export interface RecordSource {
  /** Records whose origin's seq > after[origin] (absent = 0), at most `limit`, oldest first per origin. */
  records(after: Record<string, number>, limit: number): Promise<SignedRecord[]>;
  /** A train.py or a patch by the sha256 hex of its bytes. */
  object(hash: string): Promise<Uint8Array | undefined>;
  /**
   * Optional: per origin, the highest seq s such that the store holds every record 1..s of that
   * origin. Used as the starting point of automatic catch-up and to skip records already held.
   */
  known?(): Promise<Record<string, number>>;
}

export interface P2PInit {
  /** Persistent Ed25519 private key (libp2p protobuf bytes); created on first start, mode 0600. */
  identityFile: string;
  /** Lowercase hex; part of every topic and protocol id. */
  programId: string;
  /** Default ['/ip4/0.0.0.0/tcp/0']. */
  listen?: string[];
  /** Addresses to advertise instead of the listen addresses (NAT, containers). */
  announce?: string[];
  /** Multiaddrs with /p2p/<id>; dialled at start and redialled while disconnected. */
  bootstrap?: string[];
  /** LAN discovery (opt-in). */
  mdns?: boolean;
  source: RecordSource;
  log?: P2PLog;
  /** Where the record counter lives; default `${identityFile}.seq`. */
  seqFile?: string;
  /** How often bootstrap peers are redialled while disconnected; default 10 s. */
  redialMs?: number;
  /** Limit for one outgoing fetch/sync request (dial + request + response); default 15 s. */
  requestTimeoutMs?: number;
  /**
   * Private swarm: the swarm key file's bytes (see `parseSwarmKey`). When set, every connection
   * must prove the same key before noise starts; peers without it cannot connect.
   */
  swarmKey?: Uint8Array;
  /** Mean period of anti-entropy rounds (protocol.md §5.1); default 30 s, 0 = off. */
  antiEntropyMs?: number;
}

export interface PeerSummary {
  id: string;
  addresses: string[];
  connected: boolean;
}

export interface SwarmNet {
  readonly peerId: string;
  addresses(): string[];
  publish(record: UnsignedRecord): Promise<SignedRecord>;
  on(event: 'record', fn: (r: SignedRecord, from: string) => void): void;
  off(event: 'record', fn: (r: SignedRecord, from: string) => void): void;
  fetchObject(hash: string, peers?: string[]): Promise<Uint8Array | undefined>;
  syncFrom(peer: string, known?: Record<string, number>): Promise<number>;
  peers(): PeerSummary[];
  /** Drops by reason (gossip and sync), and the gossipsub score of each connected peer. */
  stats(): { dropped: Record<DropReason, number>; scores: Record<string, number> };
  /** Origin → contiguous high-water seq of the records this node has seen or was seeded with. */
  known(): Record<string, number>;
  stop(): Promise<void>;
}

/** The network layer failed to start or a request could not be made. */
export class NetError extends SwarmError {}

export function topics(programId: string): Record<RecordType, string> {
  return {
    result: `/swarm/1/${programId}/results`,
    claim: `/swarm/1/${programId}/claims`,
    best: `/swarm/1/${programId}/bests`,
    noise: `/swarm/1/${programId}/noise`,
    verify: `/swarm/1/${programId}/verifications`,
  };
}

export function protocols(programId: string): { fetch: string; sync: string; digest: string } {
  return {
    fetch: `/swarm/1/${programId}/fetch/1.0.0`,
    sync: `/swarm/1/${programId}/sync/1.0.0`,
    digest: `/swarm/1/${programId}/digest/1.0.0`,
  };
}

const silent: P2PLog = { info() {}, warn() {} };
const HEX64 = /^[0-9a-f]{64}$/;
const PEER = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/;
const errMsg = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function peerOf(addr: Multiaddr): string | undefined {
  const c = addr.getComponents().filter((x) => x.name === 'p2p').at(-1);
  return c?.value;
}

function parseJson(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)); // a BOM is refused, as in records
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and bounds a sync request; throws on anything malformed. */
export function parseSyncRequest(bytes: Uint8Array): { after: Record<string, number>; limit: number } {
  const v = parseJson(bytes);
  if (!isPlainObject(v) || !isPlainObject(v.after)) throw new Error('sync request: expected {after, limit}');
  const limit = v.limit;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) throw new Error('sync request: bad limit');
  const after: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [peer, seq] of Object.entries(v.after)) {
    if (!PEER.test(peer) || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      throw new Error('sync request: bad after entry');
    }
    after[peer] = seq;
  }
  return { after: { ...after }, limit: Math.min(limit, WIRE.maxSyncPage) };
}

export async function createSwarmNet(init: P2PInit): Promise<SwarmNet> {
  const log = init.log ?? silent;
  const program = init.programId;
  if (!/^[0-9a-f]{1,128}$/.test(program)) {
    throw new NetError(`program id ${JSON.stringify(program)} is not lowercase hex (1–128 chars)`);
  }
  const aePeriod = init.antiEntropyMs ?? ANTI_ENTROPY.periodMs;
  // A timer longer than 2^31 ms, or NaN, fires at once: such a "period" would be a busy loop.
  if (!(aePeriod >= 0 && aePeriod <= 86_400_000)) {
    throw new NetError(`anti-entropy period ${aePeriod} ms is not between 0 (off) and 86400000 (a day)`);
  }
  const TOPICS = topics(program);
  const PROTOS = protocols(program);
  const topicType = new Map<string, RecordType>(Object.entries(TOPICS).map(([t, topic]) => [topic, t as RecordType]));

  const psk = init.swarmKey === undefined ? undefined : parseSwarmKey(init.swarmKey, 'P2PInit.swarmKey');
  const key = await loadOrCreateIdentity(init.identityFile);
  const seeded = init.source.known ? await init.source.known() : {};
  const tracker = new SeqTracker();
  tracker.seed(seeded);

  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  const drop = (reason: DropReason, where: string, error: string): void => {
    dropped[reason]++;
    log.warn(`p2p: dropped a record from ${where} (${reason}): ${error.slice(0, 200)}`);
  };

  const listeners = new Set<(r: SignedRecord, from: string) => void>();
  const emit = (r: SignedRecord, from: string): void => {
    for (const fn of listeners) {
      try {
        fn(r, from);
      } catch (err) {
        log.warn(`p2p: a record listener threw: ${errMsg(err)}`);
      }
    }
  };
  /** Emits a verified record unless it was seen before; true when new. */
  const accept = (r: SignedRecord, from: string): boolean => {
    // Our own records coming back (the counter file was lost): never reuse their numbers.
    if (r.peer === selfId) counter.bump(r.seq);
    if (!tracker.add(r.peer, r.seq)) return false;
    emit(r, from);
    return true;
  };

  let node: Libp2p<{ identify: unknown; pubsub: GossipSub }>;
  try {
    node = await createLibp2p({
      privateKey: key,
      addresses: {
        listen: init.listen ?? ['/ip4/0.0.0.0/tcp/0'],
        ...(init.announce && init.announce.length > 0 ? { announce: init.announce } : {}),
      },
      transports: [tcp()],
      ...(psk ? { connectionProtector: preSharedKey({ psk }) } : {}),
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: init.mdns ? [mdns({ interval: 10_000 })] : [],
      services: {
        identify: identify(),
        pubsub: gossipsub(gossipsubOptions(Object.values(TOPICS))),
      },
      start: false,
    });
  } catch (err) {
    throw new NetError(`cannot create the libp2p node: ${errMsg(err)}`, { cause: err });
  }

  const pubsub = node.services.pubsub;
  const selfId = node.peerId.toString();
  const seqFile = init.seqFile ?? `${init.identityFile}.seq`;
  const counter = await SeqCounter.open(seqFile, seeded[selfId] ?? 0);
  tracker.seed({ [selfId]: counter.current });

  // ---- gossip ------------------------------------------------------------------------------
  const validated = new WeakMap<Message, SignedRecord>();
  const validator = async (topic: string, msg: Message): Promise<TopicValidatorResult> => {
    try {
      const from = msg.type === 'signed' ? msg.from.toString() : 'unknown';
      if (msg.type !== 'signed') {
        drop('unsigned', from, 'gossip message without a libp2p signature');
        return TopicValidatorResult.Reject;
      }
      const v = await decodeRecord(msg.data, program);
      if (!v.ok) {
        drop(v.reason, from, v.error);
        return TopicValidatorResult.Reject;
      }
      if (topicType.get(topic) !== v.record.type) {
        drop('schema', from, `a ${v.record.type} record on ${topic}`);
        return TopicValidatorResult.Reject;
      }
      // Records travel on gossip only from their origin; a relayed one belongs in sync.
      if (v.record.peer !== from) {
        drop('signature', from, `record of origin ${v.record.peer} published by ${from}`);
        return TopicValidatorResult.Reject;
      }
      validated.set(msg, v.record);
      return TopicValidatorResult.Accept;
    } catch (err) {
      drop('schema', 'unknown', `validator error: ${errMsg(err)}`);
      return TopicValidatorResult.Reject;
    }
  };
  for (const topic of Object.values(TOPICS)) {
    pubsub.topicValidators.set(topic, (_peer, msg) => validator(topic, msg));
  }
  pubsub.addEventListener('message', (evt) => {
    try {
      const msg = evt.detail;
      if (!topicType.has(msg.topic)) return;
      const r = validated.get(msg);
      if (r === undefined || msg.type !== 'signed') return;
      accept(r, msg.from.toString());
    } catch (err) {
      log.warn(`p2p: message handler: ${errMsg(err)}`);
    }
  });

  // ---- request/response: fetch -------------------------------------------------------------
  await node.handle(PROTOS.fetch, (stream, connection) =>
    serve(stream, 1024, async (req) => {
      const v = parseJson(req);
      if (!isPlainObject(v) || typeof v.hash !== 'string' || !HEX64.test(v.hash) || Object.keys(v).length !== 1) {
        throw new Error('fetch request: expected {"hash": <sha256 hex>}');
      }
      const bytes = await init.source.object(v.hash);
      if (bytes === undefined || bytes.byteLength + 1 > WIRE.maxObjectBytes || sha256Hex(bytes) !== v.hash) {
        return Uint8Array.of(FETCH_NOT_FOUND);
      }
      const out = new Uint8Array(bytes.byteLength + 1);
      out[0] = FETCH_FOUND;
      out.set(bytes, 1);
      return out;
    }, (err) => log.warn(`p2p: fetch from ${connection.remotePeer.toString()} failed: ${errMsg(err)}`)),
  { maxInboundStreams: 8, maxOutboundStreams: 8 });

  // ---- request/response: sync --------------------------------------------------------------
  await node.handle(PROTOS.sync, (stream, connection) =>
    serve(stream, WIRE.maxRequestBytes, async (req) => {
      const { after, limit } = parseSyncRequest(req);
      const records = (await init.source.records(after, limit)).slice(0, limit);
      // Fill the page up to the frame limit; a record never exceeds 256 KiB, so ≥ 1 fits.
      const parts: string[] = [];
      let size = 2;
      for (const r of records) {
        const s = JSON.stringify(r);
        const n = Buffer.byteLength(s, 'utf8') + 1;
        if (size + n > WIRE.maxSyncResponseBytes) break;
        parts.push(s);
        size += n;
      }
      return new TextEncoder().encode(`[${parts.join(',')}]`);
    }, (err) => log.warn(`p2p: sync from ${connection.remotePeer.toString()} failed: ${errMsg(err)}`)),
  { maxInboundStreams: 4, maxOutboundStreams: 4 });

  // ---- requester side ----------------------------------------------------------------------
  const request = async (peer: string, protocol: string, body: unknown, maxResponse: number): Promise<Uint8Array> => {
    const signal = AbortSignal.timeout(init.requestTimeoutMs ?? WIRE.requestTimeoutMs);
    const stream = await node.dialProtocol(peerIdFromString(peer), protocol, { signal });
    return exchange(stream, new TextEncoder().encode(JSON.stringify(body)), maxResponse, signal);
  };

  const syncFrom = async (peer: string, known?: Record<string, number>): Promise<number> => {
    const after: Record<string, number> = { ...(known ?? (await knownNow())) };
    let count = 0;
    for (let page = 0; page < WIRE.maxSyncPages; page++) {
      const bytes = await request(peer, PROTOS.sync, { after, limit: WIRE.maxSyncPage }, WIRE.maxSyncResponseBytes);
      let list: unknown;
      try {
        list = parseJson(bytes);
      } catch (err) {
        drop('invalid-json', peer, `sync response: ${errMsg(err)}`);
        break;
      }
      if (!Array.isArray(list)) {
        drop('schema', peer, 'sync response is not an array');
        break;
      }
      if (list.length === 0) break;
      let progressed = false;
      for (const item of list.slice(0, WIRE.maxSyncPage)) {
        const v = await checkRecord(item, program);
        if (!v.ok) {
          drop(v.reason, peer, `sync: ${v.error}`);
          continue;
        }
        const r = v.record;
        if (r.seq <= (after[r.peer] ?? 0)) continue; // the responder ignored `after`
        after[r.peer] = r.seq;
        progressed = true;
        if (accept(r, peer)) count++;
      }
      if (!progressed) break;
    }
    return count;
  };

  const knownNow = async (): Promise<Record<string, number>> => {
    const mine = tracker.known();
    if (!init.source.known) return mine;
    let theirs: Record<string, number> = {};
    try {
      theirs = await init.source.known();
    } catch (err) {
      log.warn(`p2p: source.known() failed: ${errMsg(err)}`);
    }
    for (const [p, s] of Object.entries(theirs)) if (s > (mine[p] ?? 0)) mine[p] = s;
    return mine;
  };

  const fetchObject = async (hash: string, peers?: string[]): Promise<Uint8Array | undefined> => {
    if (!HEX64.test(hash)) throw new NetError(`not a sha256 hex digest: ${JSON.stringify(hash)}`);
    const targets = peers ?? node.getPeers().map((p) => p.toString());
    for (const peer of targets) {
      if (peer === selfId) continue;
      try {
        const res = await request(peer, PROTOS.fetch, { hash }, WIRE.maxObjectBytes);
        if (res.byteLength === 1 && res[0] === FETCH_NOT_FOUND) continue;
        if (res.byteLength < 1 || res[0] !== FETCH_FOUND) {
          log.warn(`p2p: ${peer} sent a malformed fetch response`);
          continue;
        }
        const bytes = res.slice(1);
        if (sha256Hex(bytes) !== hash) {
          log.warn(`p2p: ${peer} answered ${hash.slice(0, 12)} with bytes of another hash; ignored`);
          continue;
        }
        return bytes;
      } catch (err) {
        log.warn(`p2p: fetch ${hash.slice(0, 12)} from ${peer}: ${errMsg(err)}`);
      }
    }
    return undefined;
  };

  // ---- catch-up on every new connection ----------------------------------------------------
  let stopped = false;
  const syncing = new Set<string>();
  const autoSync = (peer: string): void => {
    if (stopped || syncing.has(peer) || peer === selfId) return;
    syncing.add(peer);
    void (async () => {
      try {
        const n = await syncFrom(peer);
        if (n > 0) log.info(`p2p: caught up ${n} record(s) from ${peer}`);
      } catch (err) {
        if (!stopped) log.warn(`p2p: sync from ${peer} failed: ${errMsg(err)}`);
      } finally {
        syncing.delete(peer);
      }
    })();
  };
  // ---- periodic anti-entropy: digest exchange, then a sync pull where they differ (§5.1) ---------
  const digestPeers = new Set<string>();
  const antiEntropy = new AntiEntropy({
    periodMs: aePeriod,
    known: () => tracker.known(),
    peers: () => node.getPeers().map(String).filter((p) => digestPeers.has(p)),
    ask: async (peer, digest) => parseDigestMessage(await request(peer, PROTOS.digest, { digest }, ANTI_ENTROPY.maxMessageBytes)),
    pull: (peer) => syncFrom(peer, tracker.known()),
    busy: syncing,
    log,
  });
  await node.handle(PROTOS.digest, (stream, connection) =>
    serve(stream, ANTI_ENTROPY.maxMessageBytes, async (req) =>
      encodeDigestMessage(antiEntropy.answer(connection.remotePeer.toString(), parseDigestMessage(req))),
    (err) => log.warn(`p2p: digest from ${connection.remotePeer.toString()} failed: ${errMsg(err)}`)),
  { maxInboundStreams: 2, maxOutboundStreams: 2 });
  node.addEventListener('peer:disconnect', (evt) => digestPeers.delete(evt.detail.toString()));

  const addrBook = new Map<string, Set<string>>();
  const remember = (peer: string, addrs: Multiaddr[]): void => {
    let set = addrBook.get(peer);
    if (!set) {
      set = new Set();
      addrBook.set(peer, set);
    }
    for (const a of addrs) {
      const s = a.toString();
      set.add(peerOf(a) === undefined ? `${s}/p2p/${peer}` : s);
    }
  };
  // A connected box on another research program shares nothing; say so once, or the user waits in vain.
  const foreignWarned = new Set<string>();
  const warnForeignProgram = (peer: string, protos: readonly string[]): void => {
    const other = protos.map((p) => /^\/swarm\/1\/([0-9a-f]+)\/sync\/1\.0\.0$/.exec(p)?.[1]).find((id) => id !== undefined);
    if (other === undefined || foreignWarned.has(peer)) return;
    foreignWarned.add(peer);
    log.warn(`p2p: peer ${peer} is on research program ${other}, not ${program}: its prepare.py, baseline train.py, program.md, dataset or budget differ, so it shares nothing with this node`);
  };
  node.addEventListener('peer:identify', (evt: CustomEvent<IdentifyResult>) => {
    try {
      const peer = evt.detail.peerId.toString();
      remember(peer, evt.detail.listenAddrs);
      if (evt.detail.protocols.includes(PROTOS.digest)) digestPeers.add(peer);
      if (evt.detail.protocols.includes(PROTOS.sync)) autoSync(peer);
      else warnForeignProgram(peer, evt.detail.protocols);
    } catch (err) {
      log.warn(`p2p: identify handler: ${errMsg(err)}`);
    }
  });
  node.addEventListener('peer:discovery', (evt) => {
    if (stopped || !init.mdns) return;
    const id: PeerId = evt.detail.id;
    if (id.equals(node.peerId) || node.getConnections(id).length > 0) return;
    node.dial(id, { signal: AbortSignal.timeout(WIRE.requestTimeoutMs) }).catch((err: unknown) => {
      log.warn(`p2p: dial discovered peer ${id.toString()}: ${errMsg(err)}`);
    });
  });

  // ---- bootstrap and redial ----------------------------------------------------------------
  const bootstrap: { addr: Multiaddr; peer: string }[] = [];
  for (const s of init.bootstrap ?? []) {
    try {
      const addr = multiaddr(s);
      const peer = peerOf(addr);
      if (peer === undefined) {
        log.warn(`p2p: bootstrap address ${s} has no /p2p/<id>; ignored`);
        continue;
      }
      if (peer !== selfId) bootstrap.push({ addr, peer });
    } catch (err) {
      log.warn(`p2p: bootstrap address ${s} is not a multiaddr: ${errMsg(err)}`);
    }
  }
  const dialing = new Set<string>();
  const redial = (): void => {
    for (const b of bootstrap) {
      if (stopped || dialing.has(b.peer)) continue;
      if (node.getConnections(peerIdFromString(b.peer)).length > 0) continue;
      dialing.add(b.peer);
      node.dial(b.addr, { signal: AbortSignal.timeout(WIRE.requestTimeoutMs) })
        .then(() => log.info(`p2p: connected to bootstrap peer ${b.peer}`))
        .catch((err: unknown) => { if (!stopped) log.warn(`p2p: dial ${b.addr.toString()}: ${errMsg(err)}`); })
        .finally(() => dialing.delete(b.peer));
    }
  };

  try {
    await node.start();
  } catch (err) {
    throw new NetError(`cannot start the libp2p node: ${errMsg(err)}`, {
      cause: err,
      hint: 'check the listen addresses (port in use?)',
    });
  }
  for (const topic of Object.values(TOPICS)) pubsub.subscribe(topic);
  redial();
  const timer = setInterval(redial, init.redialMs ?? 10_000);
  timer.unref();
  antiEntropy.start();
  log.info(`p2p: ${selfId} listening on ${node.getMultiaddrs().map(String).join(' ')}${psk ? ' (private swarm)' : ''}`);

  return {
    peerId: selfId,
    addresses: () => node.getMultiaddrs().map((a) => {
      const s = a.toString();
      return peerOf(a) === undefined ? `${s}/p2p/${selfId}` : s;
    }),
    async publish(body: UnsignedRecord): Promise<SignedRecord> {
      if (stopped) throw new NetError('the network is stopped');
      // Never sign what peers would reject, and check before taking a seq: a burnt seq would
      // leave a permanent gap in this origin's sequence.
      const time = new Date().toISOString();
      const trial = { ...body, v: 1, program, peer: selfId, seq: counter.current + 1, time, sig: `${'A'.repeat(86)}==` };
      const check = validateRecord(JSON.parse(JSON.stringify(trial)) as unknown, program);
      if (!check.ok) throw new NetError(`refusing to publish an invalid ${body.type} record (${check.reason}): ${check.error}`);
      const size = Buffer.byteLength(JSON.stringify(trial), 'utf8') + 32;
      if (size > LIMITS.messageBytes) throw new NetError(`refusing to publish a ${body.type} record of ${size} bytes (limit ${LIMITS.messageBytes})`);
      const seq = await counter.next();
      const record = await signRecord({ ...body, v: 1, program, peer: selfId, seq, time } as DraftRecord, key);
      tracker.add(selfId, seq);
      try {
        await pubsub.publish(TOPICS[record.type], encodeRecord(record));
      } catch (err) {
        // The record is signed and counted; peers still get it through sync.
        log.warn(`p2p: gossip of ${record.type} #${seq} failed: ${errMsg(err)}`);
      }
      return record;
    },
    on(_event: 'record', fn) {
      listeners.add(fn);
    },
    off(_event: 'record', fn) {
      listeners.delete(fn);
    },
    fetchObject,
    syncFrom,
    peers(): PeerSummary[] {
      const ids = new Set<string>([...addrBook.keys(), ...node.getPeers().map(String)]);
      ids.delete(selfId);
      return [...ids].map((id) => {
        const conns = node.getConnections(peerIdFromString(id));
        const addrs = new Set(addrBook.get(id) ?? []);
        return { id, addresses: [...addrs], connected: conns.length > 0 };
      });
    },
    stats: () => {
      const scorer = pubsub as unknown as { getScore?: (peer: string) => number };
      const scores: Record<string, number> = {};
      for (const p of node.getPeers()) {
        const id = p.toString();
        try {
          scores[id] = scorer.getScore?.(id) ?? 0;
        } catch {
          scores[id] = 0;
        }
      }
      return { dropped: { ...dropped }, scores };
    },
    known: () => tracker.known(),
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      antiEntropy.stop();
      await node.stop();
    },
  };
}
