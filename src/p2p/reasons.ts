/**
 * Why a shared run crashed or was discarded, as it goes on the wire: a code from a fixed table,
 * never the run's own text. A run's output is written by the code under test, and code that read a
 * secret can print it; so what leaves the box says only which of a few known things happened, and
 * the text shown for it is fixed per code (see docs/protocol.md §3.3).
 */

/** Every code a `result`'s `reason` may hold, with the one text shown for it. */
export const REASON_TEXTS = {
  timeout: 'the run exceeded its time limit and was killed',
  oom: 'the run ran out of memory',
  diverged: 'the loss diverged (val_bpb not finite)',
  killed: 'the run was killed by a signal',
  exit: 'the run exited with an error',
  exception: 'the run raised an exception',
  'no-summary': 'the run printed no complete summary block',
  eval: 'the harness could not evaluate the trained model',
  'limit:memory': 'the run hit its memory limit',
  'limit:processes': 'the run hit its process limit',
  'limit:disk': 'the run hit its disk limit',
  'limit:log': 'the run hit its log size limit',
  interrupted: 'the node stopped during the run too often; not retried',
  crash: 'the run crashed',
  'not-better': 'it did not beat the best by the keep margin',
  'inside-noise': 'it beat the best, but by no more than k·σ (a win inside the noise)',
} as const;

export type FixedReasonCode = keyof typeof REASON_TEXTS;
/** A fixed code, or `exception:<ClassName>`. */
export type ReasonCode = FixedReasonCode | `exception:${string}`;

/** The class name in `exception:<ClassName>`: a Python dotted identifier, at most 64 characters. */
export const EXCEPTION_CLASS = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;

/** True when `v` is a reason code a receiver accepts. */
export function isReasonCode(v: unknown): v is ReasonCode {
  if (typeof v !== 'string') return false;
  if (Object.hasOwn(REASON_TEXTS, v)) return true;
  return v.startsWith('exception:') && EXCEPTION_CLASS.test(v.slice('exception:'.length));
}

/** The fixed text shown for a code (an unknown string is shown as what it is not: a known reason). */
export function reasonText(code: string): string {
  if (Object.hasOwn(REASON_TEXTS, code)) return REASON_TEXTS[code as FixedReasonCode];
  if (isReasonCode(code)) return `the run raised ${code.slice('exception:'.length)}`;
  return 'an unrecognised reason';
}
