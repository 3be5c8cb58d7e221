/**
 * The parts of shared records the trust rules read. Trust judges, and the p2p layer (which records
 * and gossips) depends on it, not the other way round: every signed record of src/p2p fits these shapes.
 */

/** A replication's word on a claim (a `verify` record). */
export interface VerifyFact { type: 'verify'; peer: string; seq: number; claimant: string; experiment: string; verdict: 'confirm' | 'dispute' }

/** A peer's noise floor (a `noise` record). */
export interface NoiseFact { type: 'noise'; peer: string; seq: number; sigma: number | null }

/** Any other shared record: trust only needs to tell it apart. */
export interface OtherFact { type: 'result' | 'claim' | 'best'; peer: string; seq: number }

export type Fact = VerifyFact | NoiseFact | OtherFact;
