import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkspaceError } from '../core/index.js';

/**
 * What `git init --bare` writes, and all a swarm workspace's own config ever holds. Any other key
 * (an alias, core.fsmonitor, diff.external, a filter or merge driver, include.path, ...) was planted
 * by someone else, and several of them make git run a program.
 */
const WRITTEN_BY_INIT = new Set([
  'core.repositoryformatversion', 'core.filemode', 'core.bare', 'core.logallrefupdates', 'core.ignorecase',
  'core.precomposeunicode', 'core.symlinks', 'extensions.objectformat', 'extensions.refstorage',
]);

/** The keys of a git config file, `section.key` (subsection kept), lower case; null for a line that is not plainly one. */
function configKeys(text: string): string[] | null {
  const keys: string[] = [];
  let section: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[([A-Za-z0-9.-]+)(?:\s+"([^"\\]*)")?\]$/.exec(line);
    if (head) {
      section = head[2] === undefined ? head[1]!.toLowerCase() : `${head[1]!.toLowerCase()}.${head[2]}`;
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*[^\\]*)?$/.exec(line);
    if (!kv || section === null) return null;
    keys.push(`${section}.${kv[1]!.toLowerCase()}`);
  }
  return keys;
}

/**
 * Refuses a workspace whose repository config holds anything but what `git init` wrote: git reads
 * that file on every call, and nothing a peer sends must be able to add a program for git to run.
 */
export async function checkRepoConfig(gitDir: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(gitDir, 'config'), 'utf8');
  } catch {
    return; // not created yet (before `git init`), or not a repository: git itself will say so
  }
  const keys = configKeys(text);
  const foreign = keys === null ? ['(a line git config would not write)'] : keys.filter((k) => !WRITTEN_BY_INIT.has(k));
  if (foreign.length > 0) {
    throw new WorkspaceError(`the workspace's git config at ${join(gitDir, 'config')} holds ${foreign.slice(0, 5).join(', ')}, which this node never writes`, {
      hint: 'someone changed the workspace (several git settings run programs); stop the node, inspect that file, and remove what was added or move the workspace aside',
    });
  }
}
