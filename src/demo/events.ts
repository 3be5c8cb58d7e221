import type { ExperimentRecord } from '../core/index.js';
import type { SignedRecord, SignedResult, SignedVerify } from '../p2p/index.js';

/** What the demo reads of one node: its own experiments and the swarm records it holds. */
export interface NodeView {
  name: string;
  peerId: string | null;
  records: readonly ExperimentRecord[];
  shared: readonly SignedRecord[];
}

/** The four things the demo is there to show. */
export type Kind = 'share' | 'skip' | 'rebase' | 'replicate';
export const KINDS: readonly Kind[] = ['share', 'skip', 'rebase', 'replicate'];

/** The first time a node showed one of them: when (ISO time of the record) and what, in one line. */
export interface Milestone {
  kind: Kind;
  at: string;
  text: string;
}

export interface Counts {
  experiments: number;
  kept: number;
  /** Results of other peers this node holds. */
  received: number;
  /** Candidates skipped because a peer had tried them or was running them. */
  skipped: number;
  /** Peers' kept changes run here, rebased onto this node's best. */
  rebased: number;
  /** Peers' would-be bests this node re-ran. */
  replicated: number;
}

const ran = (r: ExperimentRecord) => r.status === 'keep' || r.status === 'discard' || r.status === 'crash';
/** A peer's kept change, rebased onto this node's best (not a peer's whole train.py adopted as a base). */
const fromPeer = (r: ExperimentRecord) => r.origin.kind === 'peer';
/** A candidate not run because it was tried already, here or by a peer, or a peer was running it. */
export const isSkip = (r: ExperimentRecord) => r.status === 'skip';
/** A skip because of a peer (its result or its claim), named in the reason. */
const peerSkip = (r: ExperimentRecord) => isSkip(r) && / peer /.test(r.reason ?? '');

const results = (v: NodeView) => v.shared.filter((r): r is SignedResult => r.type === 'result');
const othersResults = (v: NodeView) => results(v).filter((r) => r.peer !== v.peerId);
const verifies = (v: NodeView) => v.shared.filter((r): r is SignedVerify => r.type === 'verify' && r.peer === v.peerId);

export function countsOf(v: NodeView): Counts {
  const experiments = v.records.filter(ran);
  return {
    experiments: experiments.length,
    kept: experiments.filter((r) => r.status === 'keep').length,
    received: v.peerId === null ? 0 : othersResults(v).length,
    skipped: v.records.filter(peerSkip).length,
    rebased: experiments.filter(fromPeer).length,
    replicated: v.peerId === null ? 0 : verifies(v).length,
  };
}

/** The earliest example of each kind across the nodes; `names` turns peer ids into node names. */
export function milestones(views: readonly NodeView[], names: ReadonlyMap<string, string>): Milestone[] {
  const who = (peer: string) => names.get(peer) ?? `peer …${peer.slice(-6)}`;
  const found: Milestone[] = [];
  const earliest = (kind: Kind, candidates: Milestone[]) => {
    const first = candidates.sort((a, b) => a.at.localeCompare(b.at))[0];
    if (first) found.push(first);
  };
  // A shared baseline says little: the first shared experiment is what shows sharing.
  earliest('share', views.flatMap((v) => (v.peerId === null ? [] : othersResults(v).filter((r) => r.hash !== r.parentHash)).map((r) => ({
    kind: 'share' as const, at: r.time,
    text: `${v.name} received ${who(r.peer)}'s result "${r.hypothesis}" (${r.status}${r.metrics ? `, val_bpb ${r.metrics.val_bpb.toFixed(4)}` : ''})`,
  }))));
  earliest('skip', views.flatMap((v) => v.records.filter(peerSkip).map((r) => ({
    kind: 'skip' as const, at: r.endedAt ?? r.startedAt,
    text: `${v.name} skipped #${r.seq} "${r.hypothesis}": ${named(r.reason ?? 'already tried', names)}`,
  }))));
  earliest('rebase', views.flatMap((v) => v.records.filter((r) => ran(r) && fromPeer(r)).map((r) => ({
    kind: 'rebase' as const, at: r.endedAt ?? r.startedAt,
    text: `${v.name} rebased ${named(r.origin.proposer.replace(/^.*@/, 'peer '), names)}'s kept change "${r.hypothesis}" onto its own best and ran it as #${r.seq} → ${r.status}`,
  }))));
  earliest('replicate', views.flatMap((v) => (v.peerId === null ? [] : verifies(v)).map((r) => ({
    kind: 'replicate' as const, at: r.time,
    text: `${v.name} re-ran ${who(r.claimant)}'s would-be best: claimed ${r.claimed.toFixed(4)}, measured ${r.val_bpb?.toFixed(4) ?? r.outcome} → ${r.verdict}`,
  }))));
  return found;
}

/** Replaces "peer <short id>" in a node's reason with the demo's name for that peer. */
function named(reason: string, names: ReadonlyMap<string, string>): string {
  let out = reason;
  for (const [peer, name] of names) out = out.replaceAll(`peer ${peer.slice(-8)}`, name);
  return out;
}
