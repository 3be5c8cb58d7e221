import type { ProposalContext } from '../agent/index.js';
import type { ExperimentRecord } from '../core/index.js';
import { DEFAULT_PLATEAU, exploration, groupDirections, ownAttempts, sinceLastKeep } from '../directions/index.js';
import { judge } from '../judge/index.js';
import { keepMargin } from '../trust/index.js';
import type { Staged, Version } from '../workspace/index.js';
import { bestLineage, latestKeep, toHistory, triedHashes } from './history.js';
import { newId } from './ids.js';
import type { LoopState } from './state.js';
import type { Candidate } from './types.js';

/** What the proposers are told: this node's and the swarm's experiments, every train.py already run, and how exploration stands. */
async function context(s: LoopState, source: string): Promise<ProposalContext> {
  const { swarm, program } = s.init;
  const triedHere = new Set(triedHashes(s.records).keys());
  const tried = new Set([...triedHere, ...((await swarm?.tried()) ?? [])]);
  const history = [...((await swarm?.history()) ?? []), ...toHistory(s.records)];
  const attempts = [...ownAttempts(s.records), ...((await swarm?.attempts?.()) ?? [])];
  const explored = exploration(groupDirections(attempts, source), sinceLastKeep(s.records), s.init.plateau ?? DEFAULT_PLATEAU);
  return { program, source, history, tried, triedHere, lineage: bestLineage(s.records), exploration: explored, signal: s.stop.signal };
}

/** Asks the proposer for the next candidate against the current best; a failure becomes an invalid record. */
async function draft(s: LoopState): Promise<Candidate | ExperimentRecord> {
  const { proposer, workspace } = s.init;
  const parent = await s.lock.run(() => workspace.best());
  try {
    const p = await proposer.propose(await context(s, parent.source));
    return { hypothesis: p.hypothesis, source: p.source, origin: { kind: 'proposer', proposer: p.proposer }, parent, ...(p.agent ? { agent: p.agent } : {}) };
  } catch (err) {
    return s.invalid(err, parent, { kind: 'proposer', proposer: proposer.name });
  }
}

/**
 * Keeps a proposal drafting for every worker while runs train, so an LLM's think time leaves no
 * accelerator idle; never more than the experiments still to start.
 */
export function draftAhead(s: LoopState): void {
  const room = s.max - s.created - s.resumable.length;
  while (s.drafts.length < s.workers.length && s.drafts.length < room && !s.stopped) {
    const next = draft(s);
    // Handled here too: a draft nobody takes (the node stopped) must not end as an unhandled rejection.
    next.catch(() => {});
    s.drafts.push(next);
  }
}

/** The next drafted proposal (drafting one now when none is ahead). */
export function nextDraft(s: LoopState): Promise<Candidate | ExperimentRecord> {
  return s.drafts.shift() ?? draft(s);
}

/**
 * Commits a candidate onto the current best (rebasing it if the best moved while it was drafted) and
 * checks it was never run here and is not run by a peer. Under the lock: the check and the caller's
 * `running` record are one step, so no two workers take the same train.py.
 */
export async function stage(s: LoopState, c: Candidate): Promise<ExperimentRecord> {
  const { workspace, swarm } = s.init;
  const id = newId();
  const ended = () => new Date().toISOString();
  if (c.refused) return { ...s.newRecord(c, c.parent, id), status: 'invalid', reason: c.refused, endedAt: ended() };
  let staged: Staged = await workspace.stage(id, c.source, c.hypothesis, c.parent);
  const best = await workspace.best();
  if (staged.parent.commit !== best.commit) {
    // Drafted while another candidate trained and won: replay the change onto the new best.
    const rebased = await workspace.rebase(staged.commit, best);
    if (!rebased.ok) {
      return { ...s.newRecord(c, c.parent, id), status: 'invalid', commit: staged.commit, diff: staged.diff, reason: `conflicts with the new best: ${rebased.conflict}`, endedAt: ended() };
    }
    staged = rebased.staged;
  }
  const seen = triedHashes(s.records).get(staged.hash);
  const record = { ...s.newRecord(c, staged.parent, id), hash: staged.hash, commit: staged.commit, diff: staged.diff };
  if (seen !== undefined) return { ...record, status: 'skip', reason: `identical to #${seen}, already tried here`, endedAt: ended() };
  const taken = await takeMeasured(s, record);
  if (taken) return taken;
  // The swarm vetoes only duplicates: a peer ran this change already or is running it now.
  const veto = await swarm?.admit(record);
  if (veto) return { ...record, status: 'skip', reason: veto, endedAt: ended() };
  return record;
}

/**
 * A train.py a peer already ran, whose val_bpb another peer's replication confirmed, is not run again: when
 * it beats our best by the keep margin it becomes our best as measured there (a keep without a run here).
 * Otherwise null, and the swarm's veto skips it as already tried.
 */
async function takeMeasured(s: LoopState, record: ExperimentRecord): Promise<ExperimentRecord | null> {
  const measured = await s.init.swarm?.peerMeasurement(record);
  const bestBefore = latestKeep(s.records)?.metrics?.val_bpb ?? null;
  if (!measured || bestBefore === null) return null;
  const { threshold } = s.init;
  const noise = s.floor?.sigma != null ? { sigma: s.floor.sigma, k: s.floor.k } : null;
  if (judge({ outcome: 'ok', metrics: measured.metrics, reason: null, best: bestBefore, threshold, noise }).status !== 'keep') return null;
  s.log.info(`#${record.seq} ${record.hypothesis}: taken as the new best without a run (val_bpb ${measured.metrics.val_bpb.toFixed(6)}, measured by peer ${measured.peer.slice(-8)} and confirmed by replication)`);
  const now = new Date().toISOString();
  return {
    ...record, status: 'keep', outcome: 'ok', metrics: measured.metrics, bestBefore, margin: keepMargin(threshold, s.floor),
    measuredBy: { peer: measured.peer, experiment: measured.experiment }, hardware: await s.init.trainer.hardware(), startedAt: now, endedAt: now,
  };
}

/** One automatic repair of a run that died on a trivial error (a typo, a missing import); queued first. */
export async function repair(s: LoopState, failed: ExperimentRecord): Promise<void> {
  const { proposer, workspace } = s.init;
  const { parent, failedSource } = await s.lock.run(async () => {
    const best = await workspace.best();
    return { parent: best, failedSource: failed.commit ? await workspace.source(failed.commit) : best.source };
  });
  try {
    const p = await proposer.repair!(
      await context(s, parent.source),
      { failed: { hypothesis: failed.hypothesis, source: failedSource, proposer: failed.origin.proposer }, error: failed.logTail.join('\n') },
    );
    s.log.info(`#${failed.seq} died on a trivial error; trying the repaired version next`);
    s.queue.unshift({ hypothesis: p.hypothesis, source: p.source, origin: { kind: 'repair', proposer: p.proposer }, parent });
  } catch (err) {
    s.log.warn(`#${failed.seq} could not be repaired: ${(err as Error).message}`);
  }
}

/**
 * The change a kept record displaced from best (see advanceBest): the old best's train.py written
 * against the record's own parent, so staging replays parent → old best onto the new best.
 */
export function displacedChange(displaced: ExperimentRecord, oldBest: Version, parent: Version, winner: ExperimentRecord): Candidate {
  return {
    hypothesis: `${displaced.hypothesis} (again, on top of #${winner.seq})`, source: oldBest.source,
    origin: displaced.origin, parent, lineage: displaced.lineage ?? [],
  };
}
