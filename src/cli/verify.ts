import { readFile } from 'node:fs/promises';
import type { NodeConfig } from '../config/index.js';
import { requestVerify } from '../control/index.js';
import { SwarmError, type ExperimentRecord, type NoiseFloor } from '../core/index.js';
import { bindState, readProgramStamp, type ProgramStamp } from '../program/index.js';
import type { SignedRecord, SignedResult } from '../p2p/index.js';
import type { RunResult } from '../runner/index.js';
import { runFolderName } from '../loop/index.js';
import { isLocked, openStore, pathInside, type Store } from '../store/index.js';
import { replicationRefusal } from '../swarm/index.js';
import { latestFloor, replicationTolerance, replicationVerdict, sharedSigma, type ReplicationVerdict } from '../trust/index.js';
import { openWorkspace } from '../workspace/index.js';
import { stateLayout } from './layout.js';
import { findRecord } from './records.js';
import { nodeTrainer, researchProgram } from './trainer.js';

/** A finished run to re-run here: this node's own experiment or a peer's shared result. */
export interface VerifyTarget {
  /** The claimant's peer id; null for this node's own experiment when it has no peer id yet. */
  peer: string | null;
  experiment: string;
  /** How the user knows it: "#12" or "peer …abcd1234 exp-…". */
  label: string;
  hash: string;
  /** The val_bpb it reported; null when it never finished (a crash can be re-run too). */
  claimed: number | null;
  source: string;
  /** σ of the claimant's box, when it shared a noise floor. */
  claimantSigma: number | null;
}

export interface VerifyReport {
  target: Omit<VerifyTarget, 'source'>;
  measured: number | null;
  outcome: RunResult['outcome'];
  reason: string | null;
  tolerance: number;
  /** null when there was no claim to compare with. */
  verdict: ReplicationVerdict | null;
  logPath: string;
}

export interface TargetSources {
  records: readonly ExperimentRecord[];
  shared: readonly SignedRecord[];
  /** This node's peer id, if known. */
  self: string | null;
  object(hash: string): Promise<Uint8Array | undefined>;
  /** train.py of one of this node's commits. */
  commitSource(commit: string): Promise<string>;
}

/** Finds what `swarm verify <ref>` means: an own experiment (number, id or commit prefix) or a peer's result (id prefix). */
export async function findTarget(ref: string, s: TargetSources): Promise<VerifyTarget> {
  const own = findRecord(s.records, ref);
  if (own) {
    if (own.commit === null || own.hash === null) {
      throw new SwarmError(`#${own.seq} never became a train.py (${own.status}); there is nothing to re-run`);
    }
    const sigma = sharedSigma(s.shared, s.self);
    return {
      peer: s.self, experiment: own.id, label: `#${own.seq}`, hash: own.hash, claimed: own.metrics?.val_bpb ?? null,
      source: await s.commitSource(own.commit), claimantSigma: sigma,
    };
  }
  const matches = s.shared.filter((r): r is SignedResult => r.type === 'result' && r.peer !== s.self && r.experiment.startsWith(ref) && r.hash !== null);
  if (matches.length !== 1) {
    throw new SwarmError(matches.length === 0 ? `no experiment matches "${ref}"` : `"${ref}" matches ${matches.length} peer results`, {
      hint: 'give an experiment number from `npx swarm log`, or a longer id from `npx swarm leaderboard` / `npx swarm log --json`',
    });
  }
  const r = matches[0]!;
  const bytes = await s.object(r.hash!);
  if (bytes === undefined) {
    throw new SwarmError(`the train.py of ${r.experiment} (${r.hash!.slice(0, 12)}) is not held here`, {
      hint: 'run `npx swarm join` for a while: a node fetches the train.py of the results it takes from its peers',
    });
  }
  return {
    peer: r.peer, experiment: r.experiment, label: `peer …${r.peer.slice(-8)} ${r.experiment}`, hash: r.hash!,
    claimed: r.metrics?.val_bpb ?? null, source: Buffer.from(bytes).toString('utf8'),
    claimantSigma: sharedSigma(s.shared, r.peer),
  };
}

/** Compares a re-run with the claim, with the tolerance replication uses (k·σ of either box, at least a floor). */
export function verifyReport(target: VerifyTarget, result: RunResult, floors: readonly NoiseFloor[], k: number): VerifyReport {
  const measured = result.outcome === 'ok' && result.metrics ? result.metrics.val_bpb : null;
  const tolerance = replicationTolerance(k, [target.claimantSigma, latestFloor(floors)?.sigma]);
  const { source: _source, ...rest } = target;
  return {
    target: rest, measured, outcome: result.outcome, reason: result.reason, tolerance, logPath: result.logPath,
    verdict: target.claimed === null ? null : replicationVerdict(target.claimed, measured, tolerance),
  };
}

export function formatVerify(r: VerifyReport): string {
  const claimed = r.target.claimed === null ? 'no val_bpb (it did not finish)' : r.target.claimed.toFixed(6);
  const measured = r.measured === null ? `no val_bpb (${r.outcome}${r.reason ? `: ${r.reason}` : ''})` : r.measured.toFixed(6);
  const lines = [
    `re-ran ${r.target.label} (train.py ${r.target.hash.slice(0, 12)})`,
    `claimed:   ${claimed}`,
    `measured:  ${measured}${r.measured !== null && r.target.claimed !== null ? ` (${r.measured - r.target.claimed >= 0 ? '+' : ''}${(r.measured - r.target.claimed).toFixed(6)})` : ''}`,
    `tolerance: ${r.tolerance.toFixed(6)}`,
    `verdict:   ${r.verdict === null ? 'nothing to compare' : r.verdict === 'confirm' ? 'confirmed: the claim holds on this box' : 'disputed: this box measured clearly worse'}`,
    `log:       ${r.logPath}`,
  ];
  return lines.join('\n');
}

/**
 * `swarm verify <ref>`: a running node re-runs it between its own runs (one accelerator, one
 * run at a time); a stopped node's state is opened here and the run happens in this process.
 */
export async function verify(config: NodeConfig, ref: string): Promise<VerifyReport> {
  const layout = stateLayout(config.state);
  let store: Store;
  try {
    store = await openStore(layout.db);
  } catch (err) {
    if (!isLocked(err)) throw err;
    try {
      return await requestVerify<VerifyReport>(config.state, ref);
    } catch (e) {
      throw new SwarmError(`the running node could not verify "${ref}": ${(e as Error).message.replace(/^node answered \d+: /, '')}`);
    }
  }
  try {
    const node = await nodeTrainer(withStampedBudget(config, await readProgramStamp(config.state)));
    const { trainer, fence, config: resolved } = node;
    const workspace = await openWorkspace({ dir: layout.workspace, baseline: await readFile(node.baseline, 'utf8') });
    const records = await store.list();
    const shared = (await store.shared()) as unknown as SignedRecord[];
    const ids = new Set(records.map((r) => r.id));
    const self = shared.find((r) => r.type === 'result' && ids.has(r.experiment))?.peer ?? null;
    const target = await findTarget(ref, { records, shared, self, object: (h) => store.getObject(h), commitSource: (c) => workspace.source(c) });
    // Measured under another budget or dataset, the number would not compare with the claim.
    await bindState(config.state, await researchProgram(resolved, node));
    if (target.peer !== self) {
      // A peer's code: the same run policy, screen and fence rule as replication and the control socket.
      const refusePeerCode = fence.complete || config.allowUnsandboxed ? null : `not re-running a peer's train.py: ${fence.describe()}`;
      const refused = replicationRefusal(
        { policy: config.runPolicy, allowlist: new Set(config.allowlist), refusePeerCode },
        target.peer ?? '', target.source, (await workspace.best()).source);
      if (refused) throw refused;
    }
    // The folder name comes from a hash: the experiment id is a peer's text.
    const runDir = await pathInside(layout.runs, runFolderName('verify', target.peer ?? '', target.experiment, new Date().toISOString()));
    const result = await trainer.run({ source: target.source, runDir });
    return verifyReport(target, result, await store.noiseFloors(), config.noiseK);
  } finally {
    await store.close();
  }
}

/** A stopped node's experiments are re-run under the budget and dataset its state folder was joined with. */
function withStampedBudget(config: NodeConfig, stamp: ProgramStamp | null): NodeConfig {
  if (stamp === null || (stamp.dataset !== 'sotu' && stamp.dataset !== 'climbmix')) return config;
  const budget = stamp.budgetMode === 'time' ? { budget: stamp.budget } : { budgetTokens: stamp.budget };
  return { ...config, dataset: stamp.dataset, budgetMode: stamp.budgetMode, timeout: null, ...budget };
}
