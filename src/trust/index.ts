/** Trust: noise floors, replication verdicts, the standing of claims, and whose code runs here. */
export { sampleSigma, keepMargin, noiseSeeds, noiseDue, latestFloor, sharedSigma, type NoiseSettings } from './noise.js';
export { replicationTolerance, replicationVerdict, MIN_TOLERANCE, type ReplicationVerdict } from './replication.js';
export { standings, trustOf, disputedPeers, claimKey, UNVERIFIED, type Standing, type Trust } from './standing.js';
export { peerCodeDecision, mayReplicate, RUN_POLICIES, type RunPolicy, type PolicyInput, type PolicyDecision } from './policy.js';
export type { Fact, VerifyFact, NoiseFact } from './facts.js';
