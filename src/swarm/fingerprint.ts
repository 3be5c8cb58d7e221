import { createHash } from 'node:crypto';

/**
 * The identity of "the same change on the same base" across the swarm: the parent's hash plus the
 * diff's changed lines with whitespace normalised, so re-indented or re-spaced repeats still match.
 */
export function fingerprint(parentHash: string, diff: string): string {
  const changed = diff.split('\n')
    .filter((l) => /^[-+]/.test(l) && !l.startsWith('+++') && !l.startsWith('---'))
    .map((l) => l[0] + l.slice(1).trim().replace(/\s+/g, ' '))
    .filter((l) => l.length > 1);
  return createHash('sha256').update(`${parentHash}\n${changed.join('\n')}`).digest('hex');
}

/**
 * The identity of an imported row whose code is gone (description, status and val_bpb only): its
 * parent and its description, so that it never equals a real change's fingerprint (or another row's).
 */
export function importedFingerprint(parentHash: string, description: string): string {
  return createHash('sha256').update(`imported\n${parentHash}\n${description}`).digest('hex');
}

/** The files a unified diff touches (from its `diff --git`, `---` and `+++` headers). */
export function diffFiles(diff: string): string[] {
  const files = new Set<string>();
  for (const line of diff.split('\n')) {
    const git = /^diff --git a\/(\S+) b\/(\S+)/.exec(line);
    if (git) {
      files.add(git[1]!);
      files.add(git[2]!);
    }
    const header = /^(?:---|\+\+\+) (?:[ab]\/)?(\S+)/.exec(line);
    if (header && header[1] !== '/dev/null') files.add(header[1]!);
  }
  return [...files];
}
