/**
 * The val_bpb of record: trainer/evaluate.py scores the model a run exported, in a process of its
 * own that runs none of the candidate's code, with the run folder read-only.
 */
import path from 'node:path';
import { runFenced, type FencedProcess } from './process.js';

/** The run's model, exported by prepare.evaluate_bpb (SWARM_EXPORT_DIR). */
export const EXPORT_FOLDER = 'export';
const MAX_OUTPUT_BYTES = 64 * 1024;

export interface HarnessScore {
  valBpb: number;
  /** Seconds the evaluation process took, start to end. */
  seconds: number;
}

/** Either the harness's score, or why it did not give one (refused model, crash, timeout, limit). */
export type HarnessResult = { ok: true; score: HarnessScore } | { ok: false; reason: string };

export type HarnessProcess = Omit<FencedProcess, 'cmd' | 'onOutput'> & { python: string; trainerDir: string };

export async function evaluateExport(p: HarnessProcess): Promise<HarnessResult> {
  let output = '';
  const end = await runFenced({
    ...p,
    cmd: [p.python, path.join(p.trainerDir, 'evaluate.py'), path.join(p.spec.runDir, EXPORT_FOLDER)],
    onOutput: (chunk) => {
      if (output.length < MAX_OUTPUT_BYTES) output += chunk.toString('utf8');
    },
  });
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const refused = lines.find((l) => l.startsWith('refused: '));
  if (refused) return { ok: false, reason: `the harness refused the model: ${refused.slice('refused: '.length)}` };
  if (end.limit) return { ok: false, reason: `the harness's evaluation was stopped: ${end.limit}` };
  if (end.timedOut) return { ok: false, reason: `the harness's evaluation took longer than ${p.timeoutSeconds} s` };
  const score = lines.filter((l) => l.startsWith('{')).map(parseScore).find((s) => s !== null);
  if (end.exitCode !== 0 || !score) {
    const last = lines.filter((l) => !l.startsWith('{')).at(-1) ?? `exit ${end.exitCode ?? end.signal}`;
    return { ok: false, reason: `the harness could not evaluate the model: ${last.slice(0, 300)}` };
  }
  return { ok: true, score: { valBpb: score, seconds: end.wallSeconds } };
}

function parseScore(line: string): number | null {
  try {
    const v = (JSON.parse(line) as { val_bpb?: unknown }).val_bpb;
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
  } catch {
    return null;
  }
}
