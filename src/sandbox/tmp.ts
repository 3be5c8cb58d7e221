/**
 * The fence's own files (the seccomp filter, the generated passwd and group): one private folder
 * per node process under the system tmpdir, mode 0700 so no other user can swap a file in, removed
 * when the node exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | null = null;

export function fenceTmp(): string {
  if (dir === null) {
    const d = mkdtempSync(join(tmpdir(), 'swarm-fence-'));
    dir = d;
    process.once('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}
