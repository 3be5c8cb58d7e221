/** `swarm import`: another autoresearch run's results.tsv and git history, as this node's records. */
import { join as joinPath } from 'node:path';
import { loadConfig, type ConfigSources } from '../config/index.js';
import { importRun, type ImportReport } from '../import/index.js';
import { openStore } from '../store/index.js';
import { openWorkspace } from '../workspace/index.js';
import { readText } from './files.js';
import { stateLayout } from './layout.js';

export interface ImportOptions {
  repo: string;
  branch?: string;
  tsv?: string;
}

/** Imports into the state folder (store and workspace as `swarm join` opens them); the next join shares the records. */
export async function importCommand(sources: ConfigSources, o: ImportOptions): Promise<ImportReport> {
  const config = loadConfig(sources);
  const layout = stateLayout(config.state);
  // A first use of the state folder makes the workspace from the node's baseline, as join would.
  const baseline = await readText(joinPath(config.trainer, 'train.py'), 'the baseline train.py');
  const store = await openStore(layout.db);
  try {
    const workspace = await openWorkspace({ dir: layout.workspace, baseline });
    return await importRun({ repo: o.repo, store, workspace, ...(o.branch ? { branch: o.branch } : {}), ...(o.tsv ? { tsv: o.tsv } : {}) });
  } finally {
    await store.close();
  }
}

export function formatImport(r: ImportReport): string {
  const code = r.added.filter((x) => x.hash !== null).length;
  const counts = (['keep', 'discard', 'crash'] as const).map((s) => `${r.added.filter((x) => x.status === s).length} ${s}`).join(', ');
  return [
    `imported ${r.added.length} of ${r.rows} rows from ${r.ref} (${counts})${r.already > 0 ? `; ${r.already} were imported before` : ''}`,
    `${code} with their train.py and diff, ${r.added.length - code} with description, status and val_bpb only`,
    r.added.length > 0 ? 'the next `swarm join` shares them with the swarm, so their ideas are not tried again' : '',
  ].filter(Boolean).join('\n');
}
