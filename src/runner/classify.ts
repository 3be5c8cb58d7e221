/** How a finished training process is judged: ok / crash (with a specific reason) / timeout. */
import { constants as osConstants } from 'node:os';
import type { Metrics, RunOutcome } from '../core/index.js';
import { isOomLine, lastExceptionLine, metricsFromLines, missingMetricKeys, summaryFields } from './parse.js';

/** What the runner saw of one process, gathered while it ran. */
export interface Observation {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  timeoutSeconds: number;
  /** Text after `FAIL:` of the first FAIL line, if any. */
  fail: string | null;
  /** A line with an unmistakable OOM marker (CUDA/MPS out of memory, OutOfMemoryError) was printed. */
  oomSeen: boolean;
  /** Lines from the last `---` on (null when no `---` was printed). */
  summary: string[] | null;
  /** The last lines of the log. */
  tail: string[];
}

export interface Verdict {
  outcome: RunOutcome;
  metrics: Metrics | null;
  reason: string | null;
}

const STRONG_OOM_RE = /CUDA out of memory|OutOfMemoryError|MPS backend out of memory|HIP out of memory/;
export function isStrongOomLine(line: string): boolean {
  return STRONG_OOM_RE.test(line);
}

export const OOM_KILLER_REASON = 'out of memory (killed by SIGKILL, likely the kernel OOM killer)';

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function signalName(n: number): string | null {
  for (const [name, num] of Object.entries(osConstants.signals)) if (num === n) return name;
  return null;
}

function fmt(n: number): string {
  return Number.isNaN(n) ? 'nan' : n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n);
}

export function classify(obs: Observation): Verdict {
  if (obs.timedOut) {
    return { outcome: 'timeout', metrics: null, reason: `timed out after ${obs.timeoutSeconds}s; process tree killed` };
  }
  const metrics = obs.summary ? metricsFromLines(obs.summary) : null;
  if (obs.exitCode === 0 && metrics && Number.isFinite(metrics.val_bpb)) {
    return { outcome: 'ok', metrics, reason: null };
  }
  const crash = (reason: string): Verdict => ({ outcome: 'crash', metrics: null, reason });

  if (obs.fail) return crash(clip(obs.fail));
  if (metrics && !Number.isFinite(metrics.val_bpb)) {
    return crash(`loss diverged (val_bpb ${fmt(metrics.val_bpb)}) after ${metrics.num_steps} steps`);
  }
  const exc = lastExceptionLine(obs.tail);
  if (exc && isOomLine(exc)) return crash('out of memory');
  if (!exc && obs.oomSeen) return crash('out of memory');

  if (obs.signal) {
    if (obs.signal === 'SIGKILL') return crash(OOM_KILLER_REASON);
    return crash(`killed by signal ${obs.signal}`);
  }
  const code = obs.exitCode;
  if (code !== null && code !== 0) {
    if (exc) return crash(`exit code ${code}: ${clip(exc)}`);
    // A wrapper (shell, sandbox) reports a child killed by signal N as 128+N.
    const sig = code > 128 && code < 128 + 65 ? signalName(code - 128) : null;
    if (sig === 'SIGKILL') return crash(`${OOM_KILLER_REASON} (exit code ${code})`);
    if (sig) return crash(`killed by signal ${sig} (exit code ${code})`);
    const last = [...obs.tail].reverse().find((l) => l.trim() !== '');
    return crash(last ? `exit code ${code}: ${clip(last.trim())}` : `exit code ${code}`);
  }
  // exit 0 without a usable summary
  if (obs.summary) {
    const fields = summaryFields(obs.summary);
    const missing = fields ? missingMetricKeys(fields) : [];
    if (fields && fields.size > 0 && missing.length > 0) {
      return crash(`incomplete summary block, missing ${missing.join(', ')} (exit 0)`);
    }
  }
  return crash('no summary block (exit 0)');
}
