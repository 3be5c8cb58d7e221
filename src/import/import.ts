import { lstat, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ImportError, type ExperimentRecord, type Metrics } from '../core/index.js';
import { newId } from '../loop/index.js';
import type { Store } from '../store/index.js';
import type { Workspace } from '../workspace/index.js';
import { planImport, type PlannedRow } from './plan.js';
import { openForeignRepo } from './repo.js';
import { parseResultsTsv, TSV_LIMITS, type TsvRow } from './tsv.js';

/** The reference trains every experiment for 300 s on climbmix: what imported rows were measured under. */
export const IMPORT_BUDGET_SECONDS = 300;

export interface ImportInit {
  /** The autoresearch checkout (or bare repository). */
  repo: string;
  /** The run branch; default the checked-out one. */
  branch?: string;
  /** Default REPO/results.tsv. */
  tsv?: string;
  store: Store;
  workspace: Workspace;
}

export interface ImportReport {
  /** The branch read. */
  ref: string;
  /** Rows in the TSV. */
  rows: number;
  /** Records written now, oldest first. */
  added: ExperimentRecord[];
  /** Rows already imported before (same line, commit, status and description). */
  already: number;
}

/** What makes a row the same row when the same TSV is imported again (maybe with rows appended since). */
export function importedKey(r: { line: number; commit: string; status: string; description: string }): string {
  return JSON.stringify([r.line, r.commit, r.status, r.description]);
}

/**
 * Reads the run, checks every row against its branch, then writes one record per row not imported
 * before: with its train.py and diff in the workspace when its commit still has them, with its
 * description, status and val_bpb only otherwise. Nothing is written when any row is bad.
 */
export async function importRun(init: ImportInit): Promise<ImportReport> {
  const rows = parseResultsTsv(await readTsv(init.tsv ?? join(init.repo, 'results.tsv'), init.tsv === undefined));
  const repo = await openForeignRepo(init.repo, init.branch);
  let planned: PlannedRow[];
  try {
    planned = await planImport(rows, repo);
  } finally {
    await repo.close();
  }
  const existing = await init.store.list();
  const done = new Set(existing.flatMap((r) => (r.imported ? [importedKey({ ...r.imported, status: r.status, description: r.hypothesis })] : [])));
  let seq = Math.max(0, ...existing.map((r) => r.seq));
  const added: ExperimentRecord[] = [];
  for (const p of planned) {
    if (done.has(importedKey(p.row))) continue;
    const record = await recordOf(p, ++seq, init.workspace);
    await init.store.put(record);
    added.push(record);
  }
  return { ref: repo.ref, rows: rows.length, added, already: planned.length - added.length };
}

async function recordOf(p: PlannedRow, seq: number, workspace: Workspace): Promise<ExperimentRecord> {
  const { row } = p;
  const id = newId();
  const parent = await workspace.import(p.code?.parentSource ?? p.parentSource);
  let version = { hash: null as string | null, commit: null as string | null, diff: '' };
  if (p.baseline) version = { hash: parent.hash, commit: parent.commit, diff: '' };
  else if (p.code) {
    const message = `${row.description}\n\nImported from results.tsv line ${row.line} (commit ${row.commit}).`;
    const staged = await workspace.stage(id, p.code.source, message, parent);
    version = { hash: staged.hash, commit: staged.commit, diff: staged.diff };
  }
  const now = new Date().toISOString();
  return {
    v: 1, id, seq, status: row.status, hypothesis: row.description,
    origin: { kind: 'import', proposer: 'import' },
    parentHash: parent.hash, parentCommit: parent.commit, ...version,
    outcome: row.status === 'crash' ? 'crash' : 'ok',
    reason: reasonOf(p),
    metrics: row.status === 'crash' ? null : metricsOf(row),
    bestBefore: null, hardware: null, dataset: 'climbmix', budgetSeconds: IMPORT_BUDGET_SECONDS,
    attempts: 0, startedAt: now, endedAt: now, logTail: [], logPath: null,
    imported: { commit: row.commit, line: row.line },
  };
}

/** A kept row with its code needs no reason; every other row says it was imported, and what it lacks. */
function reasonOf(p: PlannedRow): string | null {
  const where = `imported from results.tsv line ${p.row.line}`;
  if (p.note) return `${where}: ${p.note}; description, status and val_bpb only`;
  return p.row.status === 'keep' ? null : `${where} (${p.row.status} in that run)`;
}

/**
 * The TSV has val_bpb and memory_gb only: the other summary fields are unknown and read 0. The
 * memory is kept exactly (×1024 of a 1-decimal number), so an export prints the same cell back.
 */
function metricsOf(row: TsvRow): Metrics {
  return {
    val_bpb: row.valBpb, training_seconds: 0, total_seconds: 0, peak_vram_mb: row.memoryGb * 1024, mfu_percent: 0,
    total_tokens_M: 0, num_steps: 0, num_params_M: 0, depth: 0,
  };
}

/** The TSV's bytes; REPO/results.tsv (inside the foreign repository) must be a plain file, not a link. */
async function readTsv(path: string, insideRepo: boolean): Promise<Uint8Array> {
  const st = await (insideRepo ? lstat(path) : stat(path)).catch(() => null);
  if (!st) throw new ImportError(`cannot read ${path}`, { hint: insideRepo ? 'pass the run\'s results.tsv with --tsv FILE' : 'check the --tsv path' });
  if (!st.isFile()) throw new ImportError(`${path} is not a plain file${insideRepo ? ' (a link inside the repository is not followed)' : ''}`, { hint: 'pass the run\'s results.tsv with --tsv FILE' });
  if (st.size > TSV_LIMITS.bytes) throw new ImportError(`${path} is ${st.size} bytes, more than the ${TSV_LIMITS.bytes} an autoresearch log can be`);
  return readFile(path);
}
