import { hardwareClass, sourceHash, type Hardware, type Logger } from '../core/index.js';
import type { Replication } from '../loop/index.js';
import type { RecordBody, SignedClaim, SignedRecord, SignedResult } from '../p2p/index.js';
import type { RunResult } from '../runner/index.js';
import { claimKey, replicationTolerance, replicationVerdict, sharedSigma, standings, trustOf } from '../trust/index.js';
import { claimedBefore } from './claims.js';
import { wireHypothesis } from './outbound.js';
import { short } from './short.js';

export interface ReplicatorInit {
  log: Logger;
  /** This box's hardware class and hardware (reported in its verify records). */
  hardwareClass: string;
  hardware: Hardware | null;
  /** How long a replication claim lasts, in seconds (a run's hard timeout). */
  claimSeconds: number;
  /** Most peers that replicate one result; 0: this box never replicates. */
  replicas: number;
  /** k of k·σ, for the tolerance. */
  k: number;
  /** Replicate other hardware classes too, after same-class peers had their turn (tokens budget). */
  crossClass: boolean;
  /** Whether this box may run that peer's code at all (run policy, sandbox): checked before claiming. */
  mayRun(peer: string): boolean;
  /** Why that peer's train.py must not run here (policy, sandbox, screen), or null: checked before running. */
  refusal(peer: string, source: string): Promise<Error | null>;
  self(): string | null;
  records(): Promise<SignedRecord[]>;
  /** Signs and shares a record; null when the node is not on the swarm. */
  publish(body: RecordBody): Promise<SignedRecord | null>;
  fetchText(hash: string, from: string): Promise<string | undefined>;
}

/** A replication this node committed to (published a claim for), with the earliest time to run it. */
interface Pending {
  result: SignedResult;
  notBefore: number;
  claim: SignedClaim | null;
}

/**
 * Replication: a peer's kept result that would become the best of its hardware class is re-run
 * by up to `replicas` other peers, who publish what they measured as signed `verify` records.
 */
export function replicator(init: ReplicatorInit) {
  const { log, replicas } = init;
  const pending: Pending[] = [];
  /** Re-runs asked for by the user (`swarm verify`), ahead of everything else. */
  const requested: { task: Replication; done: (result: RunResult) => void }[] = [];
  /** Claims this node will replicate or is replicating: their patches wait for the verdict. */
  const replicating = new Set<string>();

  /** True when no other undisputed kept result of r's hardware class is as good as r: r would be the class's best. */
  function leads(records: readonly SignedRecord[], r: SignedResult): boolean {
    const cls = hardwareClass(r.hardware);
    const trust = standings(records);
    return !records.some((o) =>
      o.type === 'result' && o.status === 'keep' && o.metrics !== null && !o.imported && hardwareClass(o.hardware) === cls
      && !(o.peer === r.peer && o.experiment === r.experiment) && trustOf(trust, o).standing !== 'disputed'
      && o.metrics.val_bpb <= r.metrics!.val_bpb);
  }

  /**
   * Peers that replicated a claim (this node included), or other peers holding an unexpired claim to
   * do so; with `before`, only the claims ordered before that one (racers that go first).
   */
  function replicators(records: readonly SignedRecord[], key: string, before?: SignedClaim): Set<string> {
    const now = Date.now();
    const self = init.self();
    const peers = new Set<string>();
    for (const o of records) {
      if (o.type === 'verify' && claimKey(o.claimant, o.experiment) === key) peers.add(o.peer);
      if (o.type === 'claim' && o.fingerprint === `verify:${key}` && Date.parse(o.expires) > now && o.peer !== self
        && (!before || claimedBefore(o, before))) peers.add(o.peer);
    }
    return peers;
  }

  return {
    /**
     * A peer's kept result arrived: claim its replication when it would lead its class and too few peers
     * do it. `known`: the records held, when the caller has just read them.
     */
    async consider(r: SignedResult, known?: readonly SignedRecord[]): Promise<void> {
      if (replicas < 1 || r.metrics === null || r.hash === null || !init.mayRun(r.peer)) return;
      const sameClass = hardwareClass(r.hardware) === init.hardwareClass;
      if (!sameClass && !init.crossClass) return;
      const records = known ?? await init.records();
      const key = claimKey(r.peer, r.experiment);
      const doneHere = records.some((o) => o.type === 'verify' && o.peer === init.self() && claimKey(o.claimant, o.experiment) === key);
      if (doneHere || !leads(records, r) || replicating.has(key) || replicators(records, key).size >= replicas) return;
      replicating.add(key);
      const claim = await init.publish({
        type: 'claim', experiment: r.experiment, fingerprint: `verify:${key}`, parentHash: r.parentHash, hash: r.hash,
        hypothesis: wireHypothesis(`replicate: ${r.hypothesis}`), hardware: init.hardwareClass,
        expires: new Date(Date.now() + (sameClass ? 1 : 2) * init.claimSeconds * 1000).toISOString(),
      }) as SignedClaim | null;
      pending.push({ result: r, notBefore: sameClass ? 0 : Date.parse(r.endedAt) + init.claimSeconds * 1000, claim });
    },

    /** True while this node has still to replicate that claim. */
    busy: (peer: string, experiment: string) => replicating.has(claimKey(peer, experiment)),

    /** The next re-run to do: one the user asked for, else a due replication that still matters. */
    async next(): Promise<Replication | undefined> {
      if (requested.length > 0) return requested[0]!.task;
      const now = Date.now();
      const records = await init.records();
      for (let i = 0; i < pending.length; i++) {
        const { result: r, notBefore, claim } = pending[i]!;
        if (notBefore > now) continue;
        pending.splice(i--, 1);
        const key = claimKey(r.peer, r.experiment);
        // Other-class replications are a fallback: skip when same-class peers already did enough.
        // Same class: skip when enough peers claimed it before us (a race lost) or already replicated it.
        // A result overtaken meanwhile (e.g. while catching up on history) is no longer worth a run.
        const ahead = replicators(records, key, notBefore > 0 || claim === null ? undefined : claim);
        ahead.delete(init.self() ?? '');
        if (ahead.size >= replicas || !leads(records, r)) {
          replicating.delete(key);
          continue;
        }
        const source = await init.fetchText(r.hash!, r.peer);
        if (source === undefined || sourceHash(source) !== r.hash) {
          log.warn(`peer ${short(r.peer)}: could not fetch the train.py of ${r.experiment} to replicate it`);
          replicating.delete(key);
          continue;
        }
        const refused = await init.refusal(r.peer, source);
        if (refused) {
          log.warn(`peer ${short(r.peer)}: not replicating ${r.experiment}: ${refused.message}`);
          replicating.delete(key);
          continue;
        }
        return { peer: r.peer, experiment: r.experiment, hash: r.hash!, claimed: r.metrics!.val_bpb, source };
      }
      return undefined;
    },

    /** A re-run finished: answer the user who asked for it, or publish the verdict on a peer's claim. */
    async done(task: Replication, result: RunResult): Promise<void> {
      const asked = requested.findIndex((q) => q.task === task);
      if (asked >= 0) requested.splice(asked, 1)[0]!.done(result);
      // Only a replication of another peer's claim is evidence the swarm can use.
      if (task.claimed === null || task.peer === init.self()) return;
      const records = await init.records();
      const measured = result.outcome === 'ok' && result.metrics ? result.metrics.val_bpb : null;
      const tolerance = replicationTolerance(init.k, [sharedSigma(records, task.peer), sharedSigma(records, init.self())]);
      const verdict = replicationVerdict(task.claimed, measured, tolerance);
      try {
        await init.publish({
          type: 'verify', claimant: task.peer, experiment: task.experiment, hash: task.hash, claimed: task.claimed,
          val_bpb: measured, outcome: result.outcome, tolerance, verdict, hardware: init.hardware,
        });
      } finally {
        replicating.delete(claimKey(task.peer, task.experiment));
      }
      const got = measured === null ? `the run ${result.outcome === 'ok' ? 'gave no val_bpb' : `ended in ${result.outcome}`}` : `val_bpb ${measured.toFixed(6)}`;
      const line = `replicated ${task.experiment} of peer ${short(task.peer)}: claimed ${task.claimed.toFixed(6)}, ${got}, tolerance ${tolerance.toFixed(6)}: ${verdict}`;
      if (verdict === 'confirm') log.info(line);
      else log.warn(line);
    },

    /** Queues a re-run of `task` ahead of everything else (`swarm verify`); resolves when it has run. */
    verifyNow(task: Replication): Promise<RunResult> {
      return new Promise((done) => requested.push({ task, done }));
    },
  };
}
