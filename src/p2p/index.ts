/**
 * The swarm's peer-to-peer layer. Import this (not the submodules) from the rest of the node;
 * it loads the Promise.withResolvers shim before libp2p.
 */
import './shim.js';

export {
  createSwarmNet, topics, protocols, parseSyncRequest, NetError,
  type P2PInit, type P2PLog, type RecordSource, type SwarmNet, type PeerSummary,
} from './net.js';
export {
  signRecord, verifyRecord, validateRecord, checkRecord, parseIsoTime, decodeRecord, encodeRecord, signingBytes, sha256Hex,
  LIMITS, RECORD_TYPES, EXPERIMENT_ID, FINGERPRINT, NAME, VERSION, UNSAFE_TEXT, safeText, safeName, RESULT_STATUSES, RESULT_OUTCOMES, DROP_REASONS,
  type ResultBody, type ClaimBody, type BestBody, type NoiseBody, type VerifyBody, type SignedNoise, type SignedVerify, type RecordBody, type RecordType, type UnsignedRecord,
  type Envelope, type SignedRecord, type SignedResult, type SignedClaim, type SignedBest, type DraftRecord,
  type DropReason, type Validation, type ResultStatus, type ResultOutcome,
} from './records.js';
export { REASON_TEXTS, EXCEPTION_CLASS, isReasonCode, reasonText, type ReasonCode, type FixedReasonCode } from './reasons.js';
export { generateSwarmKey, parseSwarmKey, SwarmKeyError } from './pnet.js';
export { canonicalJson } from './canonical.js';
export { loadOrCreateIdentity, SeqCounter, IdentityError } from './identity.js';
export { SeqTracker } from './tracker.js';
export { WIRE, FETCH_FOUND, FETCH_NOT_FOUND } from './wire.js';
export { ANTI_ENTROPY, AntiEntropy, summaryDigest, encodeDigestMessage, parseDigestMessage, type AntiEntropyInit } from './antientropy.js';
export { SCORE_THRESHOLDS, gossipsubOptions, peerScoreParams, topicScoreParams } from './scoring.js';
