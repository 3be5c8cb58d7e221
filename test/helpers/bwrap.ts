import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Mounts for tests that need a disk to misbehave: bubblewrap without isolation (`--dev-bind / /`,
 * so the host's files, network and devices stay as they are) plus the given mounts on top, e.g.
 * `--size 4194304 --tmpfs DIR` (a small disk that fills up) or `--ro-bind DIR DIR` (a read-only one).
 */
export function bwrapArgs(mounts: string[], command: string[]): string[] {
  return ['--die-with-parent', '--dev-bind', '/', '/', ...mounts, '--', ...command];
}

let probed: string | null | undefined;
/** Why such mounts cannot be had here (no bwrap, no user namespaces, no --size), or null when they can. */
export function bwrapMountsUnavailable(): string | null {
  if (probed !== undefined) return probed;
  const dir = mkdtempSync(join(tmpdir(), 'swarm-bwrap-mounts-'));
  try {
    const [disk, ro] = [join(dir, 'disk'), join(dir, 'ro')];
    mkdirSync(disk);
    mkdirSync(ro);
    const check = `test "$(stat -f -c %T ${disk})" = tmpfs && ! touch ${ro}/x 2>/dev/null`;
    const r = spawnSync('bwrap', bwrapArgs(['--size', '1048576', '--tmpfs', disk, '--ro-bind', ro, ro], ['sh', '-c', check]), { encoding: 'utf8' });
    if (r.error) probed = `bwrap is not installed (${(r.error as NodeJS.ErrnoException).code}); apt-get install -y bubblewrap`;
    else if (r.status !== 0) probed = `bwrap cannot mount a size-limited tmpfs or a read-only bind here (user namespaces off?): ${r.stderr.trim() || `exit ${r.status}`}`;
    else probed = null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (probed) console.warn(`[disk fault tests] skipped: ${probed}`);
  return probed;
}
