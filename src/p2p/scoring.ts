/**
 * Every gossipsub option, peer-score parameter and threshold a swarm node uses, in one place, each
 * with its reason (docs/protocol.md §4.2–4.4 lists them for independent implementations).
 *
 * The traffic is a few small records per node per training run (minutes), so the only thing worth
 * scoring is misbehaviour: invalid messages (P4) and protocol abuse (P7). Quiet is not suspicious
 * (no P3/P3b), and sharing an IP address is not either (no P6): several nodes on one box, a lab
 * behind one NAT, or a university's address all look like that, and gossipsub's default P6 graylists
 * them once more than 10 share one address (issue 11). Identities are cheap, so P6 never stopped a
 * determined Sybil anyway; what protects the swarm is that every record is signed by its origin and
 * validated before it is forwarded, and that anti-entropy (./antientropy.ts) pulls what a withholding
 * mesh peer did not pass on from any other peer.
 */
import type { GossipsubOpts } from '@libp2p/gossipsub';
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score';

/** Score thresholds (§4.4). A peer with one invalid message in flight decay stays above all of them. */
export const SCORE_THRESHOLDS: PeerScoreThresholds = {
  // Below: no IHAVE gossip to or from the peer. 4 recent invalid messages (−16) cross it.
  gossipThreshold: -10,
  // Below: our own publishes skip the peer (floodPublish included). 8 invalid messages (−64).
  publishThreshold: -50,
  // Below: every RPC from the peer is ignored. 9 invalid messages (−81), or sustained P7 abuse.
  graylistThreshold: -80,
  // PX lists are unauthenticated dial suggestions that could steer us into an eclipse; never follow
  // them (no honest score reaches 1000: positive topic scores are capped at 10).
  acceptPXThreshold: 1000,
  // Every 60 heartbeats, a mesh whose median score is below half the positive cap grafts two
  // better-scored peers, so long-lived honest peers gradually make up the mesh.
  opportunisticGraftThreshold: 5,
};

/** Per-topic parameters, identical for the five record topics (§4.4). */
export function topicScoreParams(): TopicScoreParams {
  return {
    topicWeight: 1, // the five topics count the same; no topic is more trusted
    // P1: 0.01 per second in the mesh, up to 36 after an hour: a long-lived mesh peer is preferred.
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 3600,
    // P2: +1 per record first delivered by the peer, decaying 1 %/s, at most 50.
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.99,
    firstMessageDeliveriesCap: 50,
    // P3 off (weight 0): a record every few minutes means an honest mesh peer is usually silent, and
    // gossipsub would punish it for delivering too little. The other P3 values are inert but validated.
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 100,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    // P3b off for the same reason (it carries the P3 deficit over after a prune).
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    // P4: −(invalid count)², decaying 1 %/s: a few bad records (a bug, version skew) are forgiven in
    // minutes, a peer that keeps sending even one per 10 s stays graylisted.
    invalidMessageDeliveriesWeight: -1,
    invalidMessageDeliveriesDecay: 0.99,
  };
}

/** Peer-score parameters for the given topics (§4.4). */
export function peerScoreParams(topics: readonly string[]): PeerScoreParams {
  return {
    topics: Object.fromEntries(topics.map((t) => [t, topicScoreParams()])),
    // Positive topic score is capped so a long-lived peer cannot bank credit against misbehaviour.
    topicScoreCap: 10,
    // P5 off: trust in results is judged on records (replication, docs/trust.md), not on transport.
    appSpecificScore: () => 0,
    appSpecificWeight: 0,
    // P6 off: honest nodes share addresses (one box, one NAT); see the module comment.
    IPColocationFactorWeight: 0,
    IPColocationFactorThreshold: 10,
    IPColocationFactorWhitelist: new Set<string>(),
    // P7: −10 × (penalty − 4)² for GRAFTs during a prune backoff and unanswered IWANTs; four are
    // forgiven (a reconnect storm, a busy box), and the count decays 10 %/s, so only sustained abuse
    // (about one a second) reaches the graylist.
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 4,
    behaviourPenaltyDecay: 0.9,
    decayInterval: 1000, // every counter decays once a second
    decayToZero: 0.1, // a counter below 0.1 after decay becomes 0
    // A disconnected peer's score is kept for an hour, so reconnecting does not wash a bad score.
    retainScore: 3600 * 1000,
  };
}

/** The gossipsub service options of a swarm node subscribed to `topics` (§4.2). */
export function gossipsubOptions(topics: readonly string[]): Partial<GossipsubOpts> {
  return {
    // Every message carries the publisher's gossipsub signature; the record inside has its own.
    globalSignaturePolicy: 'StrictSign',
    // A node alone still publishes (the record is stored and reaches others by sync).
    allowPublishToZeroTopicPeers: true,
    fallbackToFloodsub: false,
    emitSelf: false,
    // Own records go to every subscribed peer above publishThreshold, not only the mesh: latency.
    floodPublish: true,
    doPX: false,
    // Subscriptions and messages on any other topic are ignored: bounds what a peer can make us track.
    allowedTopics: [...topics],
    // Bigger than the 256 KiB record limit so oversized records reach the validator and are counted
    // (and scored) rather than silently killing the stream.
    maxInboundDataLength: 2 * 1024 * 1024,
    scoreParams: peerScoreParams(topics),
    scoreThresholds: SCORE_THRESHOLDS,
  };
}
