import { ImportError } from '../core/index.js';
import type { ForeignRepo, Lookup } from './repo.js';
import type { TsvRow } from './tsv.js';

/** One TSV row, checked against the repository: with its train.py when its commit still has one. */
export interface PlannedRow {
  row: TsvRow;
  /** The first row of a run that starts with its unmodified train.py: no change of its own. */
  baseline: boolean;
  /** The row's train.py and its parent's (the commit's first parent); null for a description-only row. */
  code: { source: string; parentSource: string } | null;
  /** The train.py the row was tried on when it has no code: the last kept one before it. */
  parentSource: string;
  /** Why the row has no code; null when it has. */
  note: string | null;
}

/**
 * Matches every row with the repository before anything is written: a hash that names a tree,
 * blob or tag, or kept commits that are not on the branch's first-parent history in the TSV's
 * order, is an ImportError naming the line. Commits that are gone (discards the reference reset
 * away) only make their rows description-only.
 */
export async function planImport(rows: readonly TsvRow[], repo: ForeignRepo): Promise<PlannedRow[]> {
  const lookups = await repo.lookup([...new Set(rows.map((r) => r.commit).filter((c) => c !== 'baseline'))]);
  const found = rows.map((row) => commitOf(row, lookups.get(row.commit)));
  checkKeptOrder(rows, found, repo);
  const firstKept = rows.findIndex((r, i) => r.status === 'keep' && found[i] !== null);
  const baselineRow = rows[0]!.commit === 'baseline' || rows[0]!.status === 'keep';
  // Where the run started: the baseline row's own commit, else the one before the first kept commit, else the tip.
  const startCommit = firstKept === 0 && baselineRow ? found[0]! : firstKept >= 0 ? await repo.parent(found[firstKept]!) : repo.history.at(-1)!;
  const start = await startSource(repo, startCommit, rows[0]!.line);

  const planned: PlannedRow[] = [];
  let current = start;
  for (const [i, row] of rows.entries()) {
    if (i === 0 && baselineRow) {
      planned.push({ row, baseline: true, code: { source: start, parentSource: start }, parentSource: start, note: null });
      continue;
    }
    const oid = found[i];
    const code = oid ? await codeOf(repo, oid) : { note: goneNote(row, lookups.get(row.commit)) };
    if ('note' in code) planned.push({ row, baseline: false, code: null, parentSource: current, note: code.note });
    else {
      planned.push({ row, baseline: false, code, parentSource: code.parentSource, note: null });
      if (row.status === 'keep') current = code.source;
    }
  }
  return planned;
}

/** The full id of a row's commit, null when it is gone; an error when the hash names something else. */
function commitOf(row: TsvRow, lookup: Lookup | undefined): string | null {
  if (row.commit === 'baseline' || !lookup || !('oid' in lookup)) return null;
  if (lookup.kind !== 'commit') {
    throw new ImportError(`${row.commit} names a ${lookup.kind} (${lookup.oid.slice(0, 12)}), not a commit`, {
      line: row.line, hint: 'the commit column must hold the short hash of the experiment\'s commit',
    });
  }
  return lookup.oid;
}

function goneNote(row: TsvRow, lookup: Lookup | undefined): string {
  if (lookup?.kind === 'ambiguous') return `commit ${row.commit} is ambiguous in the repository (a longer hash would name one)`;
  return `commit ${row.commit} is not in the repository${row.status === 'keep' ? '' : ' (the reference resets discarded commits away)'}`;
}

/** Kept commits advance the branch: each must be on its first-parent history, after the one kept before it. */
function checkKeptOrder(rows: readonly TsvRow[], found: readonly (string | null)[], repo: ForeignRepo): void {
  const position = new Map(repo.history.map((oid, i) => [oid, i]));
  let last: { pos: number; row: TsvRow } | null = null;
  for (const [i, row] of rows.entries()) {
    const oid = found[i];
    if (row.status !== 'keep' || !oid) continue;
    const pos = position.get(oid);
    if (pos === undefined) {
      throw new ImportError(`kept commit ${row.commit} is not on the first-parent history of ${repo.ref}`, {
        line: row.line, hint: 'is this the TSV of another branch? name the run branch with --branch B',
      });
    }
    if (last && pos <= last.pos) {
      throw new ImportError(`kept commit ${row.commit} is not after line ${last.row.line}'s ${last.row.commit} on ${repo.ref}`, {
        line: row.line, hint: 'kept rows must follow the branch\'s history in order; is the TSV edited or from another branch?',
      });
    }
    last = { pos, row };
  }
}

async function startSource(repo: ForeignRepo, commit: string | null, line: number): Promise<string> {
  const code = commit ? await repo.trainPy(commit) : { ok: false as const, why: 'is the root of the branch' };
  if (!code.ok) {
    throw new ImportError(`cannot find the run's starting train.py: the commit before its first kept one ${code.why}`, {
      line, hint: 'the run branch must hold train.py from its first commit on',
    });
  }
  return code.source;
}

async function codeOf(repo: ForeignRepo, oid: string): Promise<{ source: string; parentSource: string } | { note: string }> {
  const own = await repo.trainPy(oid);
  if (!own.ok) return { note: `commit ${oid.slice(0, 7)} ${own.why}` };
  const parent = await repo.parent(oid);
  const before = parent ? await repo.trainPy(parent) : { ok: false as const, why: 'is a root commit' };
  if (!before.ok) return { note: `the parent of commit ${oid.slice(0, 7)} ${before.why}` };
  return { source: own.source, parentSource: before.source };
}
