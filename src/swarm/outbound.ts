/**
 * What this node puts in the records it signs: its own texts and names made valid for the wire
 * (docs/protocol.md §3.1), so that a box with an odd accelerator name or a proposer's hypothesis
 * with a stray control character still shares records every peer accepts.
 */
import type { Hardware } from '../core/index.js';
import { LIMITS, VERSION, safeName, safeText } from '../p2p/index.js';

/** A hypothesis as shared: no control or bidi characters, at most 500 code points. */
export const wireHypothesis = (s: string): string => safeText(s, LIMITS.hypothesisChars);

/** A proposer or other name as shared. */
export const wireName = (s: string, max: number = LIMITS.shortChars): string => safeName(s, max);

/** A hardware class (the accelerator model; nodes before issue 10 sent `<count>× <name>`) as shared. */
export const wireClass = (s: string): string => safeName(s, LIMITS.nameChars + 16);

const wireVersion = (s: string): string => {
  const v = s.replace(/[^0-9A-Za-z.+_-]/g, '_').slice(0, 64);
  return VERSION.test(v) ? v : 'unknown';
};

/** This box's hardware as shared. */
export function wireHardware(hw: Hardware | null): Hardware | null {
  if (hw === null) return null;
  return {
    ...hw, name: safeName(hw.name, LIMITS.nameChars), torch: wireVersion(hw.torch),
    cuda: hw.cuda === null ? null : wireVersion(hw.cuda), python: wireVersion(hw.python),
  };
}
