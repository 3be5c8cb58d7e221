/**
 * Reads another autoresearch run's git repository as data. The repository is hostile input: git never
 * runs in it. Its refs are read here as small plain files, and git works in a fresh, empty bare
 * repository of the node's own (its config written by `git init`, no hooks) that only borrows the
 * foreign object folder (GIT_OBJECT_DIRECTORY). So nothing the repository holds (config, hooks,
 * attributes, filters) is ever read by git, and nothing of it runs.
 */
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImportError } from '../core/index.js';
import { checkGitVersion, Git } from '../workspace/index.js';

/** What a short hash names in the foreign repository. */
export type Lookup = { kind: 'commit' | 'tree' | 'blob' | 'tag'; oid: string } | { kind: 'missing' | 'ambiguous' };

export type TrainPy = { ok: true; source: string } | { ok: false; why: string };

export interface ForeignRepo {
  /** The branch read (`refs/heads/…`), or `HEAD` when it is detached. */
  readonly ref: string;
  /** Full ids of the branch's first-parent history, oldest first (the tip last). */
  readonly history: readonly string[];
  /** What each short hash names. */
  lookup(prefixes: readonly string[]): Promise<Map<string, Lookup>>;
  /** The first parent of a commit, or null for a root. */
  parent(commit: string): Promise<string | null>;
  /** train.py of a commit: a plain file under the size cap, or why it cannot be used. */
  trainPy(commit: string): Promise<TrainPy>;
  close(): Promise<void>;
}

export const REPO_LIMITS = {
  /** A reference train.py is ~30 KB. */
  trainPyBytes: 1024 * 1024,
  /** A ref file, HEAD. */
  refBytes: 4096,
  packedRefsBytes: 64 * 1024 * 1024,
  configBytes: 1024 * 1024,
  historyCommits: 1_000_000,
} as const;

const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** Branch names as people write them; no `..`, no leading `-` or `/`, nothing git would refuse. */
const BRANCH = /^(?!-)(?!\/)(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)[A-Za-z0-9._/-]{1,200}(?<!\/)$/;
const FILE = 'train.py';

/** Opens REPO (a checkout with `.git`, or a bare repository) at `branch` (default: what HEAD names). */
export async function openForeignRepo(repo: string, branch?: string): Promise<ForeignRepo> {
  await checkGitVersion();
  const gitDir = await findGitDir(repo);
  if (await exists(join(gitDir, 'reftable'))) {
    throw new ImportError(`${repo} keeps its refs in a reftable, which swarm import does not read`, { hint: 'convert it with `git refs migrate --ref-format=files`, or import from a copy made by `git clone`' });
  }
  const ref = branch === undefined ? await headRef(gitDir) : branchRef(branch);
  const tip = ref === 'HEAD' ? (await small(join(gitDir, 'HEAD'))).trim() : await resolveRef(gitDir, ref);
  const objects = join(gitDir, 'objects');
  if (!(await lstat(objects).catch(() => null))?.isDirectory()) throw new ImportError(`${repo} has no object folder ${objects} (or it is a link)`);
  await checkObjectFolder(objects);
  const sha256 = /^\s*objectformat\s*=\s*sha256\s*$/im.test(await small(join(gitDir, 'config'), REPO_LIMITS.configBytes).catch(() => ''));
  const own = await mkdtemp(join(tmpdir(), 'swarm-import-'));
  try {
    await new Git(own).run(['init', '--bare', '--quiet', '--template=', ...(sha256 ? ['--object-format=sha256'] : []), own]);
    const git = new Git(own, objects);
    const listed = await git.run(['rev-list', '--first-parent', `--max-count=${REPO_LIMITS.historyCommits}`, tip, '--'], { ok: [0, 128] });
    if (listed.exitCode !== 0) throw new ImportError(`${ref} of ${repo} points at ${tip.slice(0, 12)}, which is not a commit in its objects`, { hint: 'is the repository complete (not a shallow or partial clone)?' });
    return reader(git, own, ref, listed.stdout.split('\n').filter(Boolean).reverse());
  } catch (err) {
    await rm(own, { recursive: true, force: true });
    throw err;
  }
}

function reader(git: Git, own: string, ref: string, history: string[]): ForeignRepo {
  return {
    ref,
    history,
    async lookup(prefixes) {
      const out = await git.run(['cat-file', '--batch-check'], { input: prefixes.map((p) => `${p}\n`).join('') });
      const lines = out.stdout.split('\n');
      return new Map(prefixes.map((p, i) => [p, parseCheck(lines[i] ?? '')]));
    },
    async parent(commit) {
      const line = (await git.line(['rev-list', '--parents', '-n', '1', commit, '--'])).split(/\s+/);
      return line[1] ?? null;
    },
    async trainPy(commit) {
      const entry = (await git.run(['ls-tree', '-z', commit, '--', FILE])).stdout.split('\0')[0] ?? '';
      const m = /^(\d{6}) (\w+) ([0-9a-f]+)\t/.exec(entry);
      if (!m) return { ok: false, why: `has no ${FILE}` };
      if (m[1] === '120000') return { ok: false, why: `its ${FILE} is a symbolic link` };
      if (m[2] !== 'blob' || (m[1] !== '100644' && m[1] !== '100755')) return { ok: false, why: `its ${FILE} is not a plain file` };
      const size = Number(await git.line(['cat-file', '-s', m[3]!]));
      if (size > REPO_LIMITS.trainPyBytes) return { ok: false, why: `its ${FILE} is ${size} bytes, over the ${REPO_LIMITS.trainPyBytes} limit` };
      const source = (await git.run(['cat-file', 'blob', m[3]!])).stdout;
      if (source.includes('\0')) return { ok: false, why: `its ${FILE} is not text` };
      return { ok: true, source };
    },
    close: () => rm(own, { recursive: true, force: true }),
  };
}

function parseCheck(line: string): Lookup {
  const m = /^([0-9a-f]{40,64}) (commit|tree|blob|tag) \d+$/.exec(line.trim());
  if (m) return { kind: m[2] as 'commit', oid: m[1]! };
  return { kind: / ambiguous$/.test(line.trim()) ? 'ambiguous' : 'missing' };
}

/**
 * git reads the borrowed object folder with the node's rights and follows what it finds there: an
 * objects/info/alternates file (or http-alternates) lends it any other object folder on the box, and a
 * link in place of a fan-out folder, the pack folder or an object file does the same. Either would let
 * a hostile run's TSV name commits of the user's own repositories (short prefixes can be enumerated) and
 * import, then share with the swarm, their train.py. So: no alternates, and nothing but plain folders and
 * plain files at the two levels git reads (objects/xx/…, objects/pack/…, objects/info/…).
 */
async function checkObjectFolder(objects: string): Promise<void> {
  const hint = 'import from a standalone copy: `git clone --no-local REPO copy` (it copies the objects, never links or alternates)';
  for (const name of ['alternates', 'http-alternates']) {
    if (await exists(join(objects, 'info', name))) {
      throw new ImportError(`${join(objects, 'info', name)} lends the repository another object folder; swarm import reads only the repository's own objects`, { hint });
    }
  }
  for (const top of await readdir(objects, { withFileTypes: true })) {
    const path = join(objects, top.name);
    if (top.isSymbolicLink() || !(top.isDirectory() || top.isFile())) throw new ImportError(`${path} is a link (or not a plain file or folder); swarm import follows none`, { hint });
    if (!top.isDirectory()) continue;
    for (const entry of await readdir(path, { withFileTypes: true })) {
      if (!(entry.isDirectory() || entry.isFile())) throw new ImportError(`${join(path, entry.name)} is a link (or not a plain file or folder); swarm import follows none`, { hint });
    }
  }
}

/** `.git` of a checkout, or REPO itself when it is bare. Links are refused: they could lead anywhere. */
async function findGitDir(repo: string): Promise<string> {
  const top = await lstat(repo).catch(() => null);
  if (!top?.isDirectory()) throw new ImportError(`${repo} is not a folder (or it is a link)`, { hint: 'pass the folder of the autoresearch checkout' });
  const dot = await lstat(join(repo, '.git')).catch(() => null);
  if (dot?.isDirectory()) return join(repo, '.git');
  if (dot?.isFile()) throw new ImportError(`${repo}/.git is a file (a linked worktree or a submodule)`, { hint: 'pass the main checkout of the repository, or a `git clone` of it' });
  if (dot) throw new ImportError(`${repo}/.git is a link; swarm import follows none`, { hint: 'pass the real checkout' });
  if (await exists(join(repo, 'HEAD')) && await exists(join(repo, 'objects'))) return repo;
  throw new ImportError(`${repo} is not a git repository`, { hint: 'pass the folder of the autoresearch checkout (the one holding .git)' });
}

async function headRef(gitDir: string): Promise<string> {
  const head = (await small(join(gitDir, 'HEAD'))).trim();
  if (OID.test(head)) return 'HEAD';
  const m = /^ref: (refs\/heads\/.+)$/.exec(head);
  if (!m || !BRANCH.test(m[1]!.slice('refs/heads/'.length))) throw new ImportError(`cannot read the checked-out branch from ${join(gitDir, 'HEAD')}`, { hint: 'name the run branch with --branch B' });
  return m[1]!;
}

function branchRef(branch: string): string {
  const name = branch.startsWith('refs/heads/') ? branch.slice('refs/heads/'.length) : branch;
  if (!BRANCH.test(name)) throw new ImportError(`${JSON.stringify(branch.slice(0, 100))} is not a branch name`, { hint: 'e.g. --branch autoresearch/mar5' });
  return `refs/heads/${name}`;
}

/** A branch's commit id: its loose ref file, else its line in packed-refs. */
async function resolveRef(gitDir: string, ref: string): Promise<string> {
  const loose = await small(join(gitDir, ref)).catch(() => null);
  if (loose !== null && OID.test(loose.trim())) return loose.trim();
  const packed = await small(join(gitDir, 'packed-refs'), REPO_LIMITS.packedRefsBytes).catch(() => '');
  for (const line of packed.split('\n')) {
    const [oid, name] = line.trim().split(' ');
    if (name === ref && oid && OID.test(oid)) return oid;
  }
  throw new ImportError(`the repository has no branch ${ref.slice('refs/heads/'.length)}`, { hint: 'name the run branch with --branch B (`git branch` lists them)' });
}

/** A small regular file's text; never through a link, never past `max` bytes. */
async function small(path: string, max: number = REPO_LIMITS.refBytes): Promise<string> {
  const st = await lstat(path);
  if (!st.isFile()) throw new ImportError(`${path} is not a plain file`);
  if (st.size > max) throw new ImportError(`${path} is ${st.size} bytes, more than ${max}`);
  return readFile(path, 'utf8');
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null)) !== null;
}
