/**
 * A thin driver for git plumbing on one bare repository, isolated from the user's git config, from
 * GIT_* variables in the node's environment, and from anything planted in the repository: git runs
 * no hook, no fsmonitor, no external diff, and refuses a repository config the node did not write.
 */
import { execa } from 'execa';
import { probedDiskError, WorkspaceError } from '../core/index.js';
import { checkRepoConfig } from './repo-config.js';

export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const IDENTITY = { name: 'swarm', email: 'swarm@localhost' };
export const MIN_GIT = [2, 38] as const; // `merge-tree --write-tree`

/**
 * Settings that win over any config file: no hooks (a planted hook would run with the node's rights),
 * no fsmonitor or external programs, no automatic gc or maintenance spawning background processes.
 */
const SAFE_SETTINGS: readonly string[] = [
  'core.hooksPath=/dev/null', 'core.fsmonitor=false', 'core.untrackedCache=false', 'core.sshCommand=false',
  'core.pager=cat', 'core.askPass=false', 'gc.auto=0', 'maintenance.auto=false', 'protocol.allow=never',
  'diff.external=false', 'credential.helper=', 'safe.bareRepository=all',
];
const SAFE_ARGS = SAFE_SETTINGS.flatMap((kv) => ['-c', kv]);

export class Git {
  private readonly env: Record<string, string>;
  /** `objects`: another object folder to read (GIT_OBJECT_DIRECTORY), e.g. a foreign repository's (swarm import). */
  constructor(readonly gitDir: string, objects?: string) {
    this.env = {
      ...(objects === undefined ? {} : { GIT_OBJECT_DIRECTORY: objects }),
      GIT_DIR: gitDir,
      GIT_AUTHOR_NAME: IDENTITY.name,
      GIT_AUTHOR_EMAIL: IDENTITY.email,
      GIT_COMMITTER_NAME: IDENTITY.name,
      GIT_COMMITTER_EMAIL: IDENTITY.email,
      // the user's / system config must not change diff output, hooks, prefixes, etc.
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_PAGER: 'cat',
      LC_ALL: 'C',
      // Only PATH comes from the node's environment: GIT_EXEC_PATH, GIT_DIR, GIT_CONFIG_*, GIT_SSH, HOME and
      // the like must not reach git (see extendEnv below).
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: gitDir,
      // objects and refs reach the disk before the command returns, so that after a power cut no ref
      // (best moved after a record) points at an object that was still only in the page cache
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'core.fsync',
      GIT_CONFIG_VALUE_0: 'objects,reference',
    };
  }

  /** Runs git; exit codes listed in `ok` are returned, anything else throws WorkspaceError. */
  async run(args: string[], opts: { input?: string; ok?: number[] } = {}): Promise<GitResult> {
    const ok = opts.ok ?? [0];
    await checkRepoConfig(this.gitDir);
    let res;
    try {
      res = await execa('git', [...SAFE_ARGS, ...args], {
        env: this.env,
        extendEnv: false,
        input: opts.input ?? '',
        reject: false,
        stripFinalNewline: false,
        maxBuffer: 256 * 1024 * 1024,
      });
    } catch (err) {
      throw new WorkspaceError(`git ${args[0]} could not run`, { hint: 'install git (2.38 or newer)', cause: err });
    }
    if (res.exitCode === undefined) {
      if (res.code === 'ENOENT') {
        throw new WorkspaceError('git is not installed (or not on PATH)', { hint: 'install git (2.38 or newer)' });
      }
      throw new WorkspaceError(`git ${args[0]} failed to start: ${res.message ?? res.code}`, { hint: 'install git (2.38 or newer)' });
    }
    const out: GitResult = { exitCode: res.exitCode, stdout: String(res.stdout), stderr: String(res.stderr) };
    if (!ok.includes(out.exitCode)) {
      const disk = await this.diskError(`write to the workspace (git ${args[0]})`, out.stderr);
      if (disk) throw disk;
      throw new WorkspaceError(
        `git ${args.join(' ').slice(0, 200)} failed (exit ${out.exitCode}): ${out.stderr.trim().split('\n').slice(-3).join(' | ')}`,
        { hint: `the workspace at ${this.gitDir} may be damaged; move it aside to start a fresh one` },
      );
    }
    return out;
  }

  /**
   * A failed write said plainly when the disk is to blame (full, read-only, no permission), found in
   * git's message or, where git does not say why, by a probe write; null otherwise. A full disk is
   * not damage: the caller must not suggest starting a fresh workspace.
   */
  diskError(doing: string, stderr: string): Promise<WorkspaceError | null> {
    return probedDiskError(WorkspaceError, stderr.trim(), this.gitDir, doing);
  }

  async line(args: string[], opts: { input?: string } = {}): Promise<string> {
    return (await this.run(args, opts)).stdout.trim();
  }
}

let versionChecked: Promise<void> | null = null;
/** Fails with a WorkspaceError when git is missing or older than MIN_GIT. Checked once per process. */
export function checkGitVersion(): Promise<void> {
  versionChecked ??= (async () => {
    const out = await new Git('/nonexistent').line(['--version']);
    const m = /(\d+)\.(\d+)/.exec(out);
    const major = Number(m?.[1] ?? 0);
    const minor = Number(m?.[2] ?? 0);
    if (major < MIN_GIT[0] || (major === MIN_GIT[0] && minor < MIN_GIT[1])) {
      throw new WorkspaceError(`git ${major}.${minor} is too old (need ${MIN_GIT.join('.')}+ for merge-tree --write-tree)`, {
        hint: 'upgrade git',
      });
    }
  })();
  versionChecked.catch(() => { versionChecked = null; });
  return versionChecked;
}
