/**
 * Just enough of a unified-diff (git diff) reader for the screen: which paths a patch names, which
 * file-level operations it performs (mode change, rename, delete, binary), and which lines of the new
 * file it adds. Hunks are read by their line counts, so a removed Python line that happens to start
 * with `-- ` is never mistaken for a file header.
 */

export interface DiffSummary {
  /** Every path the diff names (a/ and b/ prefixes stripped, /dev/null left out). */
  paths: string[];
  /** New-file line numbers of the added lines, per new path. */
  added: Map<string, Set<number>>;
  /** File-level operations other than editing text: 'new mode 100755', 'rename', 'binary', 'delete' ... */
  operations: string[];
  /** Why the diff text is not a well-formed unified diff; empty when it is. */
  problems: string[];
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function readDiff(diff: string): DiffSummary {
  const paths = new Set<string>();
  const added = new Map<string, Set<number>>();
  const operations: string[] = [];
  const problems: string[] = [];
  const lines = diff.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  let current: string | null = null;
  let oldLeft = 0;
  let newLeft = 0;
  let newLine = 0;
  let inHunk = false;

  const addPath = (p: string): string | null => {
    const clean = cleanPath(p);
    if (clean === null) return null;
    paths.add(clean);
    return clean;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (inHunk) {
      const c = line[0];
      if (c === '\\') continue; // "\ No newline at end of file"
      if (c === ' ' || line === '') {
        oldLeft--;
        newLeft--;
        newLine++;
      } else if (c === '-') {
        oldLeft--;
      } else if (c === '+') {
        if (current !== null) {
          let set = added.get(current);
          if (!set) added.set(current, (set = new Set()));
          set.add(newLine);
        }
        newLeft--;
        newLine++;
      } else {
        problems.push(`diff line ${i + 1}: unexpected text inside a hunk`);
        inHunk = false;
        continue;
      }
      if (oldLeft < 0 || newLeft < 0) {
        problems.push(`diff line ${i + 1}: hunk is longer than its header says`);
        inHunk = false;
      } else if (oldLeft === 0 && newLeft === 0) {
        inHunk = false;
      }
      continue;
    }

    const hunk = HUNK.exec(line);
    if (hunk) {
      oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      newLine = Number(hunk[3]);
      if (newLeft === 0) newLine++; // "+0,0" style: nothing added
      inHunk = oldLeft > 0 || newLeft > 0;
      if (current === null) problems.push(`diff line ${i + 1}: hunk before any file header`);
      continue;
    }
    if (line.startsWith('diff --git ')) {
      current = null;
      const m = /^diff --git (\S+) (\S+)$/.exec(line);
      if (m) {
        addPath(m[1]!);
        current = addPath(m[2]!);
      } else {
        // quoted or space-holding names: keep the whole thing as a path so the file check refuses it
        paths.add(line.slice('diff --git '.length));
      }
      continue;
    }
    if (line.startsWith('--- ')) {
      addPath(line.slice(4));
      continue;
    }
    if (line.startsWith('+++ ')) {
      current = addPath(line.slice(4));
      continue;
    }
    if (/^(old mode|new mode|deleted file mode|new file mode) /.test(line)) {
      const [, what, mode] = /^(.*mode) (\S+)/.exec(line) ?? [];
      if (what === 'deleted file mode') operations.push('deletes a file');
      else if (what === 'old mode') continue;
      else if (mode !== '100644') operations.push(`sets file mode ${mode ?? '?'}`);
      continue;
    }
    if (/^(rename|copy) (from|to) /.test(line)) {
      const m = /^(rename|copy) (from|to) (.*)$/.exec(line)!;
      addPath(m[3]!);
      if (m[2] === 'from') operations.push(`${m[1] === 'rename' ? 'renames' : 'copies'} a file`);
      continue;
    }
    if (line.startsWith('Binary files ') || line === 'GIT binary patch') {
      operations.push('changes a binary file');
      continue;
    }
    // index lines, similarity, commit preambles: nothing to check
  }
  if (inHunk) problems.push('the diff ends inside a hunk (truncated?)');
  return { paths: [...paths], added, operations, problems };
}

function cleanPath(p: string): string | null {
  let s = p.split('\t')[0]!.trim();
  if (s === '/dev/null') return null;
  if (s.startsWith('a/') || s.startsWith('b/')) s = s.slice(2);
  return s;
}
