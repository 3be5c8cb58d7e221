/** `swarm import`: another autoresearch run (git repository + results.tsv) as this node's history. */
export { importRun, importedKey, IMPORT_BUDGET_SECONDS, type ImportInit, type ImportReport } from './import.js';
export { parseResultsTsv, TSV_LIMITS, type TsvRow } from './tsv.js';
