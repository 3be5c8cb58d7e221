import { hardwareClass as classOf, sourceHash, type ExperimentRecord, type Hardware, type HistoryEntry, type Logger } from '../core/index.js';
import { peerAttempts } from '../directions/index.js';
import { latestKeep, type PeerCandidate, type Replication, type SwarmHooks } from '../loop/index.js';
import type { RunResult } from '../runner/index.js';
import { reasonText, type ReasonCode, type RecordSource, type ResultStatus, type SignedBest, type SignedClaim, type SignedRecord, type SignedResult, type SwarmNet } from '../p2p/index.js';
import { screenPatch } from '../screen/index.js';
import type { SharedRecord, Store } from '../store/index.js';
import { disputedPeers, mayReplicate, peerCodeDecision, standings, trustOf, type RunPolicy, type Trust } from '../trust/index.js';
import type { Workspace } from '../workspace/index.js';
import { earlierClaims } from './claims.js';
import { diffFiles, fingerprint, importedFingerprint } from './fingerprint.js';
import { replicationRefusal } from './gate.js';
import { wireClass, wireHardware, wireHypothesis, wireName } from './outbound.js';
import { publishedReason } from './reason-code.js';
import { replicator } from './replication.js';
import { short } from './short.js';

export interface LinkInit {
  store: Store;
  workspace: Workspace;
  log: Logger;
  /** This box's hardware class (accelerator model): claims and adoption compare within it. */
  hardwareClass: string;
  /** This box's hardware, reported in its replications. */
  hardware?: Hardware;
  /** How long a claim lasts, in seconds (a run's hard timeout). */
  claimSeconds: number;
  /**
   * How long to wait after claiming, while peers are connected, for a claim that raced ours;
   * default 1000 ms (a gossip round trip on a wide-area swarm, against a 300 s run).
   */
  claimSettleMs?: number;
  /** Keep threshold: a peer's best must beat ours by more than this to be adopted. */
  threshold: number;
  /** Why peers' patches must not run here (no sandbox and no explicit permission), or null. */
  refusePeerCode: string | null;
  /** Whose code runs here (see src/trust/policy.ts); default 'all'. */
  policy?: RunPolicy;
  /** Peer ids trusted by name. */
  allowlist?: readonly string[];
  /** How many peers replicate a result that would become the swarm's best; default 2, 0 turns replication off. */
  replicas?: number;
  /** The k of k·σ: replication tolerance; default 2. */
  noiseK?: number;
  /**
   * Replicate results of other hardware classes too, once same-class peers had `claimSeconds` to do it.
   * Right for a tokens budget (comparable across boxes), wrong for a time budget.
   */
  crossClass?: boolean;
}

/**
 * Joins a node's loop to the swarm: shares every finished result (with its train.py and diff by
 * hash), answers peers from the store, vetoes candidates the swarm already tried or is running,
 * and turns peers' kept changes into candidates rebased onto this node's best.
 */
export function swarmLink(init: LinkInit) {
  const { store, workspace, log } = init;
  /** This box's hardware and class as its records carry them. */
  const hardwareClass = wireClass(init.hardwareClass);
  const hardware = wireHardware(init.hardware ?? null);
  const policy = init.policy ?? 'all';
  const allowlist = new Set(init.allowlist ?? []);
  let net: SwarmNet | null = null;
  /** Peers' kept changes, with the claim they come from so the trust policy can be applied when they are taken. */
  const inbox: { candidate: PeerCandidate; peer: string; experiment: string }[] = [];
  const seen = new Set<string>();
  const considered = new Set<string>();
  let intake = Promise.resolve();

  const source: RecordSource = {
    records: async (after, limit) => (await store.shared(after, limit)) as unknown as SignedRecord[],
    object: (hash) => store.getObject(hash),
    known: () => store.sharedKnown(),
  };

  const all = async () => (await store.shared()) as unknown as SignedRecord[];
  const mine = (r: SignedRecord) => net !== null && r.peer === net.peerId;

  async function publish(body: Parameters<SwarmNet['publish']>[0]): Promise<SignedRecord | null> {
    if (!net) return null;
    const signed = await net.publish(body);
    await store.putShared(signed as unknown as SharedRecord);
    return signed;
  }

  /** Waits one settle period for racing claims to arrive, when there is anyone to race with. */
  async function settle(): Promise<boolean> {
    const ms = init.claimSettleMs ?? 1000;
    if (ms <= 0 || !net?.peers().some((p) => p.connected)) return false;
    await new Promise((resolve) => setTimeout(resolve, ms));
    await intake;
    return true;
  }

  async function putText(text: string): Promise<string> {
    const hash = sourceHash(text);
    await store.putObject(hash, Buffer.from(text, 'utf8'));
    return hash;
  }

  async function fetchText(hash: string, from: string): Promise<string | undefined> {
    const local = await store.getObject(hash);
    if (local) return Buffer.from(local).toString('utf8');
    const bytes = await net?.fetchObject(hash, [from]) ?? await net?.fetchObject(hash);
    if (!bytes) return undefined;
    await store.putObject(hash, bytes);
    return Buffer.from(bytes).toString('utf8');
  }

  /** Publishes a finished (or imported) record as a `result`, its train.py versions and diff stored to be served by hash. */
  async function shareResult(record: ExperimentRecord): Promise<void> {
    const status = record.status as ResultStatus;
    // Peers rebuild and rebase from the candidate and its parent, both served by hash.
    if (record.commit !== null) await putText(await workspace.source(record.commit));
    if ((await store.getObject(record.parentHash)) === undefined) await putText(await workspace.source(record.parentCommit));
    const diffHash = await putText(record.diff);
    await publish({
      type: 'result', experiment: record.id, parentHash: record.parentHash, hash: record.hash, diffHash,
      diff: Buffer.byteLength(record.diff) <= 64 * 1024 ? record.diff : null,
      fingerprint: record.hash === null ? importedFingerprint(record.parentHash, record.hypothesis) : fingerprint(record.parentHash, record.diff),
      status, hypothesis: wireHypothesis(record.hypothesis), proposer: wireName(record.origin.proposer),
      // The full reason stays in the local record: run output can carry what the run read.
      outcome: record.outcome, reason: record.imported ? importedReason(status) : publishedReason(record), metrics: record.metrics,
      hardware: wireHardware(record.hardware), dataset: record.dataset, budgetSeconds: record.budgetSeconds,
      startedAt: record.startedAt, endedAt: record.endedAt ?? new Date().toISOString(), lineage: record.lineage ?? [],
      ...(record.imported ? { imported: true as const } : {}),
      ...(record.selfReported ? { selfReported: true as const } : {}),
    });
  }

  /** Shares the imported records (`swarm import`) not shared yet: the swarm then counts their ideas as tried. */
  async function shareImported(): Promise<void> {
    const shared = new Set((await all()).flatMap((r) => (mine(r) && r.type === 'result' ? [r.experiment] : [])));
    const waiting = (await store.list()).filter((r) => r.imported && !shared.has(r.id));
    for (const r of waiting) await shareResult(r);
    if (waiting.length > 0) log.info(`shared ${waiting.length} imported record(s) with the swarm`);
  }

  const gate = { policy, allowlist, refusePeerCode: init.refusePeerCode };
  const refusal = async (peer: string, source: string) => replicationRefusal(gate, peer, source, (await workspace.best()).source);

  const replication = replicator({
    log, hardwareClass, hardware, claimSeconds: init.claimSeconds,
    replicas: init.replicas ?? 2, k: init.noiseK ?? 2, crossClass: init.crossClass ?? false,
    mayRun: (peer) => init.refusePeerCode === null && mayReplicate(policy, allowlist, peer),
    self: () => net?.peerId ?? null, records: all, publish, fetchText, refusal,
  });

  /** A peer kept a change: bring its versions over, screen it, and queue it rebased onto our best. */
  async function take(r: SignedResult): Promise<void> {
    // A baseline (or any result equal to its parent) carries no change to combine.
    if (r.hash === null || r.hash === r.parentHash || seen.has(r.experiment)) return;
    seen.add(r.experiment);
    const [parent, candidate] = await Promise.all([fetchText(r.parentHash, r.peer), fetchText(r.hash, r.peer)]);
    if (parent === undefined || candidate === undefined || sourceHash(parent) !== r.parentHash || sourceHash(candidate) !== r.hash) {
      log.warn(`peer ${short(r.peer)}: could not fetch the train.py of its kept experiment ${r.experiment}`);
      return;
    }
    const diff = r.diff ?? '';
    const files = diffFiles(diff);
    const screen = screenPatch({ files: files.length > 0 ? files : ['train.py'], diff, before: parent, after: candidate });
    const refused = init.refusePeerCode ?? (screen.ok ? null : `refused peer patch: ${screen.reasons.join('; ')}`);
    const best = await workspace.best();
    const base = r.parentHash === best.hash ? best : await workspace.import(parent);
    inbox.push({
      peer: r.peer, experiment: r.experiment,
      candidate: {
        hypothesis: r.hypothesis, source: candidate, parent: base,
        origin: { kind: 'peer', proposer: `${r.proposer} @${short(r.peer)}` },
        lineage: [...r.lineage, r.experiment], refused,
      },
    });
    log.info(`peer ${short(r.peer)} kept "${r.hypothesis}" (val_bpb ${r.metrics?.val_bpb.toFixed(6)}); queued to rebase onto our best`);
  }

  /** Whether a peer's code may run here now, from the standings the node holds. */
  function decide(trust: ReadonlyMap<string, Trust>, disputed: ReadonlySet<string>, peer: string, experiment: string) {
    return peerCodeDecision({
      policy, allowlist, peer, standing: trustOf(trust, { peer, experiment }).standing, peerDisputed: disputed.has(peer),
    });
  }

  /** Received, not yet stored: what arrives while a write is under way goes to disk together, one fsync (a sync page). */
  let arrived: SignedRecord[] = [];

  function onRecord(r: SignedRecord): void {
    arrived.push(r);
    if (arrived.length > 1) return; // the write queued for the first takes this one too
    intake = intake.then(async () => {
      const batch = arrived;
      arrived = [];
      await store.putSharedMany(batch as unknown as SharedRecord[]);
      for (const r of batch) await act(r);
    }).catch((err: unknown) => log.warn(`swarm records not stored: ${(err as Error).message}`));
  }

  async function act(r: SignedRecord): Promise<void> {
    // An imported row is history (measured by another run): nothing to replicate, nothing to rebase.
    if (r.type !== 'result' || r.status !== 'keep' || mine(r) || r.imported) return;
    try {
      await replication.consider(r);
      await take(r);
    } catch (err) {
      log.warn(`swarm record from ${short(r.peer)} not handled: ${(err as Error).message}`);
    }
  }

  /**
   * What a previous run received but did not get to act on (stopped or killed first): peers' kept
   * changes no experiment here has built on yet, and replications still due. The queue lives in
   * memory; the records it came from are in the store, so nothing a peer shared is lost.
   */
  async function resume(): Promise<void> {
    const tried = new Set((await store.list()).flatMap((r) => r.lineage ?? []));
    const records = await all();
    for (const r of records) {
      if (r.type !== 'result' || r.status !== 'keep' || mine(r) || r.imported) continue;
      await replication.consider(r, records);
      if (!tried.has(r.experiment)) await take(r);
    }
  }

  /**
   * When rebasing could not bring a peer's better train.py over (conflicts), run the peer's whole
   * file on this box: a clearly better best of the same hardware class becomes our base if it wins here too.
   */
  async function adoption(): Promise<PeerCandidate | undefined> {
    const ours = latestKeep(await store.list())?.metrics;
    if (!ours) return undefined;
    const records = await all();
    const trust = standings(records);
    const disputed = disputedPeers(trust);
    // A claim still being replicated here waits for its verdict; a disputed one is never adopted.
    // With replication on, an unconfirmed best waits (not for ever) for a replication: confirmed, it is taken
    // without a run (hooks.peerMeasurement); a best that nobody confirms in time is run here as before.
    const waiting = (r: SignedBest) => (init.replicas ?? 2) > 0 && trustOf(trust, r).standing === 'unverified'
      && Date.now() - Date.parse(r.time) < init.claimSeconds * 1000;
    const better = records
      .filter((r): r is SignedBest => r.type === 'best' && !mine(r) && r.hardware === hardwareClass && !considered.has(r.hash))
      .filter((r) => r.val_bpb < ours.val_bpb - init.threshold && !replication.busy(r.peer, r.experiment) && !waiting(r))
      .filter((r) => decide(trust, disputed, r.peer, r.experiment).run)
      .sort((a, b) => a.val_bpb - b.val_bpb)[0];
    if (!better) return undefined;
    considered.add(better.hash);
    const source = await fetchText(better.hash, better.peer);
    if (source === undefined || sourceHash(source) !== better.hash) return undefined;
    const best = await workspace.best();
    const screen = screenPatch({ files: ['train.py'], diff: '', before: best.source, after: source });
    log.info(`peer ${short(better.peer)} has a better best (${better.val_bpb.toFixed(6)} < ${ours.val_bpb.toFixed(6)}); trying its train.py as our base`);
    return {
      hypothesis: `adopt the best of peer ${short(better.peer)} (val_bpb ${better.val_bpb.toFixed(6)})`, source, parent: best,
      origin: { kind: 'adopt', proposer: `adopt @${short(better.peer)}` }, lineage: [...better.lineage, better.experiment],
      refused: init.refusePeerCode ?? (screen.ok ? null : `refused peer train.py: ${screen.reasons.join('; ')}`),
    };
  }

  const hooks: SwarmHooks = {
    async next() {
      await intake;
      const trust = standings(await all());
      const disputed = disputedPeers(trust);
      for (let i = 0; i < inbox.length; i++) {
        const { candidate, peer, experiment } = inbox[i]!;
        // Its replication here comes first: a patch whose claim is a lie must not be rebased.
        if (replication.busy(peer, experiment)) continue;
        const decision = decide(trust, disputed, peer, experiment);
        if (!decision.run && decision.wait) continue;
        inbox.splice(i--, 1);
        if (decision.run) return candidate;
        log.info(`peer ${short(peer)}: "${candidate.hypothesis}" not rebased: ${decision.reason}`);
      }
      return adoption();
    },

    async replication() {
      await intake;
      return replication.next();
    },

    replicated: (task, result) => replication.done(task, result),

    async measured(floor) {
      await publish({ type: 'noise', hash: floor.hash, seeds: floor.seeds, values: floor.values, sigma: floor.sigma, k: floor.k, hardware: wireHardware(floor.hardware) });
    },

    async admit(record) {
      const fp = fingerprint(record.parentHash, record.diff);
      const now = Date.now();
      const others = (await all()).filter((r) => !mine(r));
      // The same train.py reached from another parent (two peers rebasing each other's wins) is the same run;
      // only adoption re-runs a peer's train.py on purpose, to see whether it wins on this box too.
      const same = (r: { fingerprint: string; hash: string | null; parentHash: string }) => r.fingerprint === fp
        || (record.hash !== null && r.hash === record.hash && (r.parentHash === record.parentHash || record.origin.kind !== 'adopt'));
      // A finished result outranks the claim that preceded it.
      for (const r of others) {
        if (r.type === 'result' && same(r)) {
          return `already tried by peer ${short(r.peer)} (${r.status}${r.metrics ? `, val_bpb ${r.metrics.val_bpb.toFixed(6)}` : ''})`;
        }
      }
      for (const r of others) {
        if (r.type === 'claim' && same(r) && Date.parse(r.expires) > now) {
          return `being run by peer ${short(r.peer)} (claimed until ${r.expires})`;
        }
      }
      const ours = await publish({
        type: 'claim', experiment: record.id, fingerprint: fp, parentHash: record.parentHash, hash: record.hash,
        hypothesis: wireHypothesis(record.hypothesis), hardware: hardwareClass,
        expires: new Date(now + init.claimSeconds * 1000).toISOString(),
      }) as SignedClaim | null;
      // A peer that claimed the same change just before us runs it; our claim lapses unused.
      if (ours && await settle()) {
        const first = earlierClaims(await all(), fp, ours, record.origin.kind === 'adopt' ? null : record.hash)[0];
        if (first) return `being run by peer ${short(first.peer)} (claimed first, at ${first.time})`;
      }
      return null;
    },

    async peerMeasurement(record) {
      if (record.hash === null || init.refusePeerCode !== null) return null;
      const records = await all();
      const trust = standings(records);
      const disputed = disputedPeers(trust);
      const found = records
        .filter((r): r is SignedResult => r.type === 'result' && !mine(r) && r.hash === record.hash && r.outcome === 'ok' && r.metrics !== null)
        .filter((r) => !r.imported && !r.selfReported && classOf(r.hardware) === hardwareClass)
        .filter((r) => trustOf(trust, r).standing === 'verified' && decide(trust, disputed, r.peer, r.experiment).run)
        .sort((a, b) => a.metrics!.val_bpb - b.metrics!.val_bpb)[0];
      return found ? { peer: found.peer, experiment: found.experiment, metrics: found.metrics! } : null;
    },

    async recorded(record) {
      if (record.status !== 'keep' && record.status !== 'discard' && record.status !== 'crash') return;
      // Taken from a peer's measurement, not run here: nothing of this box's to share.
      if (record.measuredBy) return;
      if (record.commit === null || record.hash === null) return;
      const lineage = record.lineage ?? [];
      await shareResult(record);
      if (record.status === 'keep' && record.metrics) {
        await publish({ type: 'best', hash: record.hash, val_bpb: record.metrics.val_bpb, experiment: record.id, hardware: hardwareClass, lineage });
      }
    },

    async tried() {
      return new Set((await all()).flatMap((r) => (r.type === 'result' && r.hash !== null ? [r.hash] : [])));
    },

    async attempts() {
      return peerAttempts((await all()).filter((r) => !mine(r)), new Set());
    },

    async history() {
      return (await all()).filter((r): r is SignedResult => r.type === 'result' && !mine(r)).map((r): HistoryEntry => ({
        seq: 0, status: r.status, hypothesis: `[${r.imported ? 'imported by ' : ''}peer ${short(r.peer)}] ${r.hypothesis}`, diff: r.diff ?? '',
        val_bpb: r.metrics?.val_bpb ?? null, reason: r.reason === null ? null : reasonText(r.reason),
      }));
    },
  };

  return {
    source,
    hooks,
    /** Connects the link to a started net: from now on peers' records flow in, after what is left from before. */
    attach(n: SwarmNet) {
      net = n;
      intake = intake.then(resume).catch((err: unknown) => log.warn(`stored swarm records not taken up again: ${(err as Error).message}`));
      intake = intake.then(shareImported).catch((err: unknown) => log.warn(`imported records not shared: ${(err as Error).message}`));
      n.on('record', onRecord);
    },
    records: all,
    /** Claims by others still in force. */
    async claims(): Promise<SignedClaim[]> {
      const now = Date.now();
      return (await all()).filter((r): r is SignedClaim => r.type === 'claim' && Date.parse(r.expires) > now);
    },
    async bests(): Promise<SignedBest[]> {
      return (await all()).filter((r): r is SignedBest => r.type === 'best');
    },
    /**
     * Queues a re-run of `task` ahead of everything else (`swarm verify`, also over the control socket);
     * resolves when it has run. A peer's train.py gets the policy and screen any peer's code gets:
     * RefusedError when it must not run here.
     */
    async verifyNow(task: Replication): Promise<RunResult> {
      const refused = task.peer === net?.peerId ? null : await refusal(task.peer, task.source);
      if (refused) throw refused;
      return replication.verifyNow(task);
    },
    /** Waits until every received record has been handled (tests, shutdown). */
    settled: () => intake,
  };
}

export type SwarmLink = ReturnType<typeof swarmLink>;


/** The reason code of an imported row: the other run's verdict, its own words stay local. */
function importedReason(status: ResultStatus): ReasonCode | null {
  return status === 'keep' ? null : status === 'discard' ? 'not-better' : 'crash';
}
