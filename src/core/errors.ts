/** Typed errors: each says what went wrong and what the user can do about it. */
import type { AgentCall } from './types.js';

export class SwarmError extends Error {
  /** A short hint for the user, printed under the message. */
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** A config file, flag or environment variable that cannot be used. */
export class ConfigError extends SwarmError {}

/** The proposer could not produce a usable train.py (bad reply, edit that does not apply, API failure). */
export class ProposalError extends SwarmError {
  readonly kind: 'malformed' | 'no-apply' | 'api' | 'exhausted';
  /** A coding agent's call that proposed nothing: recorded with the invalid record. */
  readonly agent?: AgentCall;
  constructor(kind: ProposalError['kind'], message: string, options: { hint?: string; cause?: unknown; agent?: AgentCall } = {}) {
    super(message, options);
    this.kind = kind;
    if (options.agent) this.agent = options.agent;
  }
}

/** The git workspace is missing, corrupt, or git itself failed. */
export class WorkspaceError extends SwarmError {}

/** The LevelDB store cannot be opened or written (unwritable folder, full disk, locked by another node). */
export class StoreError extends SwarmError {}

/** The state folder, or something in it besides the store and the workspace (run folders, logs), cannot be written. */
export class StateError extends SwarmError {}

/** The trainer could not be started at all (no Python, no torch) — distinct from a run that crashes. */
export class TrainerError extends SwarmError {}

/** An autoresearch run that `swarm import` cannot read: the TSV line (1-based) when one is to blame. */
export class ImportError extends SwarmError {
  readonly line: number | null;
  constructor(message: string, options: { line?: number; hint?: string; cause?: unknown } = {}) {
    super(options.line === undefined ? message : `line ${options.line}: ${message}`, options);
    this.line = options.line ?? null;
  }
}
