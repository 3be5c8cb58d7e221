/** `swarm export`: every experiment as the reference's results.tsv or as JSON. */
import { writeFile } from 'node:fs/promises';
import { ConfigError, diskError, SwarmError, type ExperimentRecord } from '../core/index.js';
import { exportTsv } from '../store/index.js';

export type ExportFormat = 'tsv' | 'json';

/** The export file cannot be written. */
export class ExportError extends SwarmError {}

/** Experiments are the runs that happened; invalid proposals and skipped duplicates never ran. */
const RAN: ReadonlySet<ExperimentRecord['status']> = new Set(['keep', 'discard', 'crash']);

/**
 * JSON: the same experiments as the TSV's rows, as full records (the shape of `swarm log --json`,
 * which has every record; docs/plot.md lists the fields), oldest first.
 */
export function exportJson(records: readonly ExperimentRecord[]): string {
  return JSON.stringify(records.filter((r) => RAN.has(r.status)), null, 2) + '\n';
}

/** The one format asked for; both or neither is a usage error. */
export function exportFormat(o: { tsv?: boolean; json?: boolean }): ExportFormat {
  if (o.tsv && o.json) throw new ConfigError('export writes one format at a time', { hint: 'pass either --tsv or --json' });
  if (!o.tsv && !o.json) throw new ConfigError('export needs a format', { hint: 'pass --tsv (the reference\'s results.tsv) or --json' });
  return o.tsv ? 'tsv' : 'json';
}

export function exportText(records: readonly ExperimentRecord[], format: ExportFormat): string {
  return format === 'tsv' ? exportTsv(records) : exportJson(records);
}

/** Writes an export to `file`; a refused write is one line naming the file. */
export async function writeExport(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (err) {
    throw diskError(ExportError, err, file, 'write the export') ?? new ExportError(`cannot write ${file}: ${(err as Error).message}`, {
      hint: 'choose a writable file with -o FILE', cause: err,
    });
  }
}
