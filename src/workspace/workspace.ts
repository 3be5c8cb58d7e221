/**
 * The git history of train.py, kept in a BARE repository and driven only by plumbing: there is no
 * working tree, so a node killed at any moment leaves nothing half-applied. Objects are written first,
 * refs are moved last with atomic `update-ref` (compare-and-swap where it matters).
 *
 * Refs:  refs/heads/best            the current best train.py (root commit = the baseline)
 *        refs/experiments/<id>      every staged experiment, forever (kept or not)
 *        refs/rebased/<commit>      results of rebase(), so they stay reachable
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { diskError, sourceHash, WorkspaceError } from '../core/index.js';
import { checkGitVersion, Git } from './git.js';

export interface Version {
  commit: string;
  /** sourceHash(source) */
  hash: string;
  source: string;
}

export interface Staged extends Version {
  parent: Version;
  /** Unified diff of train.py, parent → this (`a/train.py b/train.py`). */
  diff: string;
}

export type RebaseResult = { ok: true; staged: Staged } | { ok: false; conflict: string };

export interface Workspace {
  readonly dir: string;
  /** Tip of branch `best`. */
  best(): Promise<Version>;
  /** A commit of `source` on top of `parent` (default best), kept forever under refs/experiments/<id>. */
  stage(id: string, source: string, message: string, parent?: Version): Promise<Staged>;
  /** Moves `best` to `commit`; WorkspaceError unless it descends from the current best. */
  keep(commit: string): Promise<void>;
  /** Replays `commit`'s change (vs its parent) onto `onto` (default best) with a 3-way merge. */
  rebase(commit: string, onto?: Version): Promise<RebaseResult>;
  /** Unified diff of train.py vs the commit's parent ('' for the root). */
  diff(commit: string): Promise<string>;
  source(commit: string): Promise<string>;
  /** Experiment id → commit. */
  experiments(): Promise<Map<string, string>>;
  /**
   * Brings in a train.py written elsewhere (a peer's parent version) as a root commit under
   * refs/imported/<sha256>, so a peer's change can be staged on it and rebased onto our best.
   */
  import(source: string): Promise<Version>;
}

export const FILE = 'train.py';
const BEST = 'refs/heads/best';
const EXPERIMENTS = 'refs/experiments/';
const REBASED = 'refs/rebased/';
const IMPORTED = 'refs/imported/';
const ZERO = '0000000000000000000000000000000000000000';
export const EXPERIMENT_TRAILER = 'Swarm-Experiment';
export const REBASED_TRAILER = 'Swarm-Rebased-From';
const STALE_LOCK_MS = 60_000;
const KEEP_RETRIES = 5;

/** Ids become ref names: keep them to a safe alphabet. */
function checkId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id) || id.includes('..') || id.endsWith('.lock') || id.endsWith('.')) {
    throw new WorkspaceError(`invalid experiment id ${JSON.stringify(id)} (letters, digits, . _ - only)`);
  }
}

function checkCommitArg(commit: string): void {
  if (!/^[0-9a-fA-F]{4,64}$/.test(commit)) {
    throw new WorkspaceError(`not a commit id: ${JSON.stringify(commit)}`);
  }
}

/** The commit message: subject = first line of the hypothesis, the rest as body, the id as a trailer. */
export function commitMessage(id: string, message: string): string {
  const lines = message.replace(/\r\n?/g, '\n').trim().split('\n');
  const subject = (lines[0] ?? '').replace(/\s+/g, ' ').trim() || '(no hypothesis)';
  const body = lines.slice(1).join('\n').trim();
  return `${subject}\n\n${body ? `${body}\n\n` : ''}${EXPERIMENT_TRAILER}: ${id}\n`;
}

class GitWorkspace implements Workspace {
  constructor(readonly dir: string, private readonly git: Git) {}

  /** Full oid of an existing commit, or WorkspaceError. */
  async resolve(commit: string): Promise<string> {
    checkCommitArg(commit);
    const r = await this.git.run(['rev-parse', '--verify', '--quiet', `${commit}^{commit}`], { ok: [0, 1, 128] });
    const oid = r.stdout.trim();
    if (r.exitCode !== 0 || !oid) throw new WorkspaceError(`unknown commit ${commit} in workspace ${this.dir}`);
    return oid;
  }

  private async bestCommit(): Promise<string> {
    const r = await this.git.run(['rev-parse', '--verify', '--quiet', `${BEST}^{commit}`], { ok: [0, 1, 128] });
    if (r.exitCode !== 0) {
      throw new WorkspaceError(`workspace ${this.dir} has no branch best`, { hint: 'the workspace is damaged; move it aside to start a fresh one' });
    }
    return r.stdout.trim();
  }

  private async sourceOf(oid: string): Promise<string> {
    const r = await this.git.run(['cat-file', 'blob', `${oid}:${FILE}`], { ok: [0, 128] });
    if (r.exitCode !== 0) throw new WorkspaceError(`commit ${oid} has no ${FILE}`, { hint: 'the workspace is damaged' });
    return r.stdout;
  }

  private async version(oid: string): Promise<Version> {
    const source = await this.sourceOf(oid);
    return { commit: oid, hash: sourceHash(source), source };
  }

  private async parents(oid: string): Promise<string[]> {
    const line = await this.git.line(['rev-list', '--parents', '-n', '1', oid]);
    return line.split(/\s+/).slice(1);
  }

  private async diffBetween(a: string, b: string): Promise<string> {
    const r = await this.git.run([
      'diff', '--no-color', '--no-ext-diff', '--no-textconv', '--src-prefix=a/', '--dst-prefix=b/', a, b, '--', FILE,
    ]);
    return r.stdout;
  }

  async writeCommit(source: string, parent: string | null, message: string): Promise<{ commit: string; tree: string }> {
    const blob = await this.git.line(['hash-object', '-w', '--no-filters', '--stdin'], { input: source });
    const tree = await this.git.line(['mktree'], { input: `100644 blob ${blob}\t${FILE}\n` });
    const args = ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'];
    const commit = await this.git.line(args, { input: message });
    return { commit, tree };
  }

  async best(): Promise<Version> {
    return this.version(await this.bestCommit());
  }

  async import(source: string): Promise<Version> {
    const hash = sourceHash(source);
    const ref = `${IMPORTED}${hash}`;
    const existing = await this.git.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { ok: [0, 1, 128] });
    if (existing.exitCode === 0 && existing.stdout.trim()) return this.version(existing.stdout.trim());
    const { commit } = await this.writeCommit(source, null, `Imported train.py ${hash.slice(0, 12)}\n`);
    await this.git.run(['update-ref', ref, commit]);
    return { commit, hash, source };
  }

  async stage(id: string, source: string, message: string, parent?: Version): Promise<Staged> {
    checkId(id);
    const parentOid = parent ? await this.resolve(parent.commit) : await this.bestCommit();
    const parentVersion = await this.version(parentOid);
    const { commit, tree } = await this.writeCommit(source, parentOid, commitMessage(id, message));
    const ref = `${EXPERIMENTS}${id}`;
    const r = await this.git.run(['update-ref', ref, commit, ZERO], { ok: [0, 1, 128] });
    let staged = commit;
    if (r.exitCode !== 0) {
      // The id exists: fine if it is the same change on the same parent (a retry), an error otherwise.
      const existing = await this.git.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { ok: [0, 1, 128] });
      const old = existing.stdout.trim();
      if (existing.exitCode !== 0 || !old) {
        throw (await this.git.diskError(`create ${ref}`, r.stderr))
          ?? new WorkspaceError(`cannot create ${ref}: ${r.stderr.trim()}`, { hint: 'the workspace may be damaged' });
      }
      const [oldTree, oldParents] = await Promise.all([
        this.git.line(['rev-parse', `${old}^{tree}`]), this.parents(old),
      ]);
      if (oldTree !== tree || oldParents[0] !== parentOid) {
        throw new WorkspaceError(`experiment ${id} is already staged (${old.slice(0, 7)}) with a different train.py or parent`);
      }
      staged = old;
    }
    return {
      commit: staged, hash: sourceHash(source), source, parent: parentVersion,
      diff: await this.diffBetween(parentOid, staged),
    };
  }

  async keep(commit: string): Promise<void> {
    const target = await this.resolve(commit);
    for (let attempt = 0; attempt < KEEP_RETRIES; attempt++) {
      const current = await this.bestCommit();
      if (current === target) return;
      const anc = await this.git.run(['merge-base', '--is-ancestor', current, target], { ok: [0, 1] });
      if (anc.exitCode !== 0) {
        throw new WorkspaceError(`cannot keep ${target.slice(0, 7)}: it does not descend from best (${current.slice(0, 7)})`, {
          hint: 'rebase it onto best first',
        });
      }
      // compare-and-swap: only moves best if nobody moved it since we looked
      const r = await this.git.run(['update-ref', BEST, target, current], { ok: [0, 1, 128] });
      if (r.exitCode === 0) return;
      // not a race but a disk that refuses the write: retrying cannot help
      const disk = await this.git.diskError(`move best to ${target.slice(0, 7)}`, r.stderr);
      if (disk) throw disk;
    }
    throw new WorkspaceError(`cannot keep ${target.slice(0, 7)}: best keeps moving under us`);
  }

  async rebase(commit: string, onto?: Version): Promise<RebaseResult> {
    const c = await this.resolve(commit);
    const parents = await this.parents(c);
    const base = parents[0];
    if (!base) throw new WorkspaceError(`cannot rebase ${c.slice(0, 7)}: it is the root commit`);
    const o = onto ? await this.resolve(onto.commit) : await this.bestCommit();
    const ontoVersion = await this.version(o);
    if (base === o) {
      const v = await this.version(c);
      return { ok: true, staged: { ...v, parent: ontoVersion, diff: await this.diffBetween(o, c) } };
    }
    // A cherry-pick with plumbing: `merge-tree` (git < 2.40 has no --merge-base) merges two commits at
    // their merge base, so give it a throwaway commit with onto's tree whose parent is c's parent.
    // The merge base is then c's parent: base → onto vs base → c, a 3-way replay of c's change.
    const ontoTree = await this.git.line(['rev-parse', `${o}^{tree}`]);
    const side = await this.git.line(['commit-tree', ontoTree, '-p', base, '-m', 'swarm: rebase base'], {});
    const merged = await this.git.run(['merge-tree', '--write-tree', '--messages', side, c], { ok: [0, 1] });
    const lines = merged.stdout.split('\n');
    let tree = (lines[0] ?? '').trim();
    if (!/^[0-9a-f]{40,64}$/.test(tree)) throw new WorkspaceError(`git merge-tree gave no tree: ${merged.stdout.slice(0, 200)}`);
    if (merged.exitCode === 1) {
      // git calls edits of adjacent lines a conflict; one-constant-per-line tweaks often are. When no
      // line moved, a line-by-line merge is exact: each line takes whichever side changed it.
      const [baseSource, cSource] = await Promise.all([this.source(base), this.source(c)]);
      const aligned = mergeAlignedLines(baseSource, ontoVersion.source, cSource);
      if (aligned === null) return { ok: false, conflict: await this.conflictSummary(tree, merged.stdout, o, c) };
      tree = (await this.writeCommit(aligned, null, 'swarm: aligned merge\n')).tree;
    }
    const original = await this.git.line(['log', '-1', '--format=%B', c]);
    const message = await this.git.run(
      ['interpret-trailers', '--trailer', `${REBASED_TRAILER}: ${c}`],
      { input: `${original}\n` },
    );
    const newCommit = await this.git.line(['commit-tree', tree, '-p', o, '-F', '-'], { input: message.stdout });
    await this.git.run(['update-ref', `${REBASED}${newCommit}`, newCommit]);
    const v = await this.version(newCommit);
    return { ok: true, staged: { ...v, parent: ontoVersion, diff: await this.diffBetween(o, newCommit) } };
  }

  /** The git messages plus each conflicting hunk, markers relabelled `onto <sha>` / `<commit sha>`. */
  private async conflictSummary(tree: string, output: string, onto: string, commit: string): Promise<string> {
    const blankAt = output.indexOf('\n\n');
    const messages = blankAt >= 0 ? output.slice(blankAt + 2).trim() : '';
    const out: string[] = [];
    if (messages) out.push(messages);
    const r = await this.git.run(['cat-file', 'blob', `${tree}:${FILE}`], { ok: [0, 128] });
    if (r.exitCode === 0) {
      const text = r.stdout.split('\n');
      let hunks = 0;
      for (let i = 0; i < text.length; i++) {
        if (!text[i]!.startsWith('<<<<<<< ')) continue;
        const start = i;
        let end = i;
        while (end < text.length && !text[end]!.startsWith('>>>>>>> ')) end++;
        hunks++;
        if (hunks <= 5) {
          const body = text.slice(start + 1, end).slice(0, 60);
          out.push(`@@ ${FILE} line ${start + 1} @@`, `<<<<<<< onto ${onto.slice(0, 7)}`, ...body, `>>>>>>> ${commit.slice(0, 7)}`);
        }
        i = end;
      }
      if (hunks > 5) out.push(`(${hunks - 5} more conflicting hunks)`);
    }
    return out.join('\n') || `conflict replaying ${commit.slice(0, 7)} onto ${onto.slice(0, 7)}`;
  }

  async diff(commit: string): Promise<string> {
    const c = await this.resolve(commit);
    const parent = (await this.parents(c))[0];
    return parent ? this.diffBetween(parent, c) : '';
  }

  async source(commit: string): Promise<string> {
    return this.sourceOf(await this.resolve(commit));
  }

  async experiments(): Promise<Map<string, string>> {
    const out = await this.git.run(['for-each-ref', '--format=%(objectname) %(refname)', EXPERIMENTS]);
    const map = new Map<string, string>();
    for (const line of out.stdout.split('\n')) {
      const m = /^([0-9a-f]+) refs\/experiments\/(.+)$/.exec(line.trim());
      if (m) map.set(m[2]!, m[1]!);
    }
    return map;
  }
}

/** Removes ref lock files left by a process killed mid-update (a live lock is held for milliseconds). */
async function clearStaleLocks(dir: string): Promise<void> {
  const now = Date.now();
  const visit = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await visit(p);
      else if (e.name.endsWith('.lock')) {
        const s = await stat(p).catch(() => null);
        if (s && now - s.mtimeMs > STALE_LOCK_MS) await rm(p, { force: true });
      }
    }
  };
  await visit(path.join(dir, 'refs'));
  for (const f of ['packed-refs.lock', 'HEAD.lock']) {
    const p = path.join(dir, f);
    const s = await stat(p).catch(() => null);
    if (s && now - s.mtimeMs > STALE_LOCK_MS) await rm(p, { force: true });
  }
}

const DAMAGED_HINT = 'move the folder aside (or delete it) and swarm will start a fresh workspace from the baseline';

/**
 * Opens the workspace at `dir` (a bare git repository), creating it on first use with `baseline`
 * as the root commit of `best`. On reopen the stored history wins; a different `baseline` is ignored.
 */
export async function openWorkspace(init: { dir: string; baseline: string }): Promise<Workspace> {
  await checkGitVersion();
  const dir = path.resolve(init.dir);
  const git = new Git(dir);

  const st = await stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new WorkspaceError(`workspace path ${dir} is not a folder`, { hint: DAMAGED_HINT });
  const empty = !st || (await readdir(dir)).length === 0;
  if (empty) {
    await mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw diskError(WorkspaceError, err, dir, 'create the workspace') ?? err;
    });
    await git.run(['init', '--bare', '--quiet', '--template=', '--initial-branch=best', dir]);
  } else {
    const r = await git.run(['rev-parse', '--is-bare-repository'], { ok: [0, 128] });
    if (r.exitCode !== 0 || r.stdout.trim() !== 'true') {
      throw new WorkspaceError(`${dir} exists but is not a swarm workspace (bare git repository)`, { hint: DAMAGED_HINT });
    }
    await clearStaleLocks(dir);
  }
  const ws = new GitWorkspace(dir, git);

  const hasBest = await git.run(['rev-parse', '--verify', '--quiet', `${BEST}^{commit}`], { ok: [0, 1, 128] });
  if (hasBest.exitCode !== 0) {
    const anyRef = await git.line(['for-each-ref', '--count=1', '--format=%(refname)']);
    if (anyRef) {
      throw new WorkspaceError(`workspace ${dir} has experiments but no branch best`, { hint: DAMAGED_HINT });
    }
    // first use (or a first use killed before best was written): the baseline becomes the root
    const { commit } = await ws.writeCommit(init.baseline, null, 'Baseline train.py\n');
    const created = await git.run(['update-ref', BEST, commit, ZERO], { ok: [0, 1, 128] });
    if (created.exitCode !== 0) {
      // someone else created it concurrently: theirs stands
      const theirs = await git.run(['rev-parse', '--verify', '--quiet', `${BEST}^{commit}`], { ok: [0, 1, 128] });
      if (theirs.exitCode !== 0) {
        throw (await git.diskError('create branch best', created.stderr))
          ?? new WorkspaceError(`cannot create branch best in ${dir}: ${created.stderr.trim()}`, { hint: DAMAGED_HINT });
      }
    }
    await git.run(['symbolic-ref', 'HEAD', BEST]);
  }
  try {
    await ws.best();
  } catch (err) {
    throw new WorkspaceError(`workspace ${dir} is damaged: best has no readable ${FILE}`, { hint: DAMAGED_HINT, cause: err });
  }
  return ws;
}

/**
 * A 3-way merge for versions whose lines correspond one to one (same line count in all three):
 * each line takes the side that changed it. Null when a line changed differently on both sides,
 * or when lines were added or removed (then only git's merge knows how lines correspond).
 */
export function mergeAlignedLines(base: string, ours: string, theirs: string): string | null {
  const [b, o, t] = [base.split('\n'), ours.split('\n'), theirs.split('\n')];
  if (b.length !== o.length || b.length !== t.length) return null;
  const out: string[] = [];
  for (let i = 0; i < b.length; i++) {
    if (o[i] === t[i] || t[i] === b[i]) out.push(o[i]!);
    else if (o[i] === b[i]) out.push(t[i]!);
    else return null;
  }
  return out.join('\n');
}
