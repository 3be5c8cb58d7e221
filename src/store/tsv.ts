import type { ExperimentRecord } from '../core/index.js';

/** The reference's results.tsv header. */
export const TSV_HEADER = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription';

/**
 * Renders experiments in the reference's results.tsv format. Only experiments that ran appear
 * (keep, discard, crash); invalid proposals never became a commit and in-flight ones have no result.
 * Imported rows (`swarm import`) come out as they went in: their own commit cell (`baseline` too).
 */
export function exportTsv(records: readonly ExperimentRecord[]): string {
  const rows = records
    .filter((r) => (r.commit !== null || r.imported) && (r.status === 'keep' || r.status === 'discard' || r.status === 'crash'))
    .map((r) => {
      const ok = r.status !== 'crash' && r.metrics !== null;
      const bpb = ok ? r.metrics!.val_bpb.toFixed(6) : '0.000000';
      const mem = ok ? memoryGb(r) : '0.0';
      return [r.imported?.commit ?? r.commit!.slice(0, 7), bpb, mem, r.status, oneLine(r.hypothesis)].join('\t');
    });
  return [TSV_HEADER, ...rows].join('\n') + '\n';
}

/**
 * GPU memory where the run reported some; else the peak the node measured (a CPU run reports no
 * VRAM, and 0.0 is the reference's crash marker). A run from before the node measured reads 0.0.
 */
function memoryGb(r: ExperimentRecord): string {
  const mb = r.metrics!.peak_vram_mb > 0 ? r.metrics!.peak_vram_mb : r.peakMemoryMb ?? 0;
  return (mb / 1024).toFixed(1);
}

/** Descriptions are a single TSV cell: no tabs, no newlines. */
function oneLine(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ').trim();
}
