/**
 * SUPERSEDED by the fence (fence.ts): kept only until src/cli/trainer.ts and src/runner switch to it.
 *
 * Runs every trainer process under bubblewrap (`bwrap`).
 *
 * A peer's patch is code that will run on this box; the static screen (src/screen) is only a speed
 * bump. THIS is the boundary. Inside the sandbox a trainer:
 *   - has no network at all (new, empty network namespace: not even the host's 127.0.0.1, and no
 *     abstract Unix sockets);
 *   - sees the host file system READ-ONLY, except the run folder and the caches it is given;
 *   - gets a private /tmp, /dev/shm and /run (the host's sockets there, e.g. docker.sock, dbus, are
 *     out of reach), a minimal /dev (plus the GPU device nodes when allowed), its own /proc;
 *   - does not see credential folders of the real HOME (~/.ssh, ~/.aws, ~/.config, ...) nor any
 *     folder the caller hides (the node's state folder: its LevelDB and control socket);
 *   - has HOME set to the run folder, secrets removed from its environment, no capabilities, its own
 *     PID/IPC/UTS namespaces, a new session (no terminal injection), no nested user namespaces where
 *     bwrap supports `--disable-userns`, and dies with its parent.
 * Not covered: CPU/memory/disk quotas (the runner's wall-clock limit ends runaway runs; a run can still
 * fill the disk under its run folder), and reading world-readable host files (it can read them, but has
 * no network to send them anywhere; what it prints lands only in its own run log).
 *
 * Where bwrap cannot run (not installed, or the kernel/container forbids namespaces), detectSandbox()
 * returns kind 'none' whose wrap() is the identity, with the reason; the caller decides whether to run
 * peers' code at all then (`detectSandbox({ require: true })` throws instead).
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import { SandboxError } from './errors.js';

export { SandboxError };

export interface SandboxInit {
  /** The run folder: writable, the working directory, and HOME inside the sandbox. */
  runDir: string;
  /** Other writable folders (data cache, compile caches). Created when missing. */
  writable: string[];
  /**
   * Folders bound read-only on top of everything else. The host root is already visible read-only, so
   * this is for paths that would otherwise be hidden (under /tmp, /run or a hidden folder) or to protect
   * a part of a writable folder.
   */
  readonly?: string[];
  /** Bind the GPU device nodes (/dev/nvidia*, /dev/dri, ...). */
  allowGpu?: boolean;
  /** Folders (or files) made invisible: a folder becomes an empty tmpfs, a file /dev/null. E.g. the node's state folder. */
  hide?: string[];
  /** Extra environment variables set inside the sandbox. */
  env?: Record<string, string>;
}

export interface Sandbox {
  readonly kind: 'bwrap' | 'none';
  /** Why there is no sandbox (kind 'none'); null for 'bwrap'. */
  readonly reason: string | null;
  /** Turns `cmd` into the command to spawn. For 'none' it returns `cmd` unchanged. */
  wrap(cmd: string[], init: SandboxInit): string[];
}

/**
 * Facts about the host that bwrapArgs() needs but must not look up itself (so it stays pure).
 * wrap() fills them in.
 */
export interface HostFacts {
  /** GPU device nodes to bind when allowGpu. Default: DEFAULT_GPU_DEVICES (bound with -try). */
  gpuDevices?: string[];
  /** Which of the `hide` entries are files rather than folders. */
  hiddenFiles?: string[];
  /** Environment variable names to remove inside. Default: SECRET_ENV_NAMES. */
  unsetEnv?: string[];
  /** Add `--unshare-user --disable-userns` (bwrap >= 0.8 on a kernel that allows it). */
  disableUserns?: boolean;
}

export const DEFAULT_GPU_DEVICES: readonly string[] = [
  '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia-modeset', '/dev/nvidia-caps',
  ...Array.from({ length: 8 }, (_, i) => `/dev/nvidia${i}`),
  '/dev/dri', '/dev/kfd',
];

/** Environment variables always removed inside the sandbox (secrets the node or the user may hold). */
export const SECRET_ENV_NAMES: readonly string[] = [
  'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'OPENAI_API_KEY', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN',
  'GITHUB_TOKEN', 'GH_TOKEN', 'NPM_TOKEN', 'WANDB_API_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN', 'GOOGLE_APPLICATION_CREDENTIALS', 'SSH_AUTH_SOCK', 'GPG_AGENT_INFO', 'DBUS_SESSION_BUS_ADDRESS',
];
const SECRET_NAME = /(^|_)(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|ACCESS_KEY|PRIVATE_KEY|AUTH)(_|$)/i;

/** Credential folders and files of a HOME that the sandbox hides by default. */
export function defaultHidden(home: string): string[] {
  return ['.ssh', '.aws', '.azure', '.gnupg', '.docker', '.kube', '.config', '.netrc', '.git-credentials', '.npmrc', '.pypirc', '.huggingface']
    .map((p) => join(home, p));
}

/**
 * The bwrap options (without the `bwrap` binary, without `--` and the command) for one run. Pure.
 * Order matters: later mounts go on top of earlier ones, so the read-only root comes first, then the
 * private tmpfs's, then the hidden folders, then the writable binds (which may sit inside a hidden
 * folder or /tmp), then the read-only binds (which may protect part of a writable one).
 */
export function bwrapArgs(init: SandboxInit, host: HostFacts = {}): string[] {
  const runDir = absolute(init.runDir, 'runDir');
  const a: string[] = [
    '--unshare-all',
    ...(host.disableUserns ? ['--unshare-user', '--disable-userns'] : []),
    '--die-with-parent',
    '--new-session',
    '--cap-drop', 'ALL',
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--tmpfs', '/dev/shm',
  ];
  if (init.allowGpu) for (const d of host.gpuDevices ?? DEFAULT_GPU_DEVICES) a.push('--dev-bind-try', d, d);
  a.push('--proc', '/proc', '--tmpfs', '/tmp', '--tmpfs', '/run');

  // Later mounts cover earlier ones, so they go from broad to specific: read-only folders (which may
  // hold the state folder), then what is hidden, then what is writable (the run folder inside the state).
  for (const r of unique(init.readonly ?? [])) {
    const p = absolute(r, 'readonly');
    a.push('--ro-bind', p, p);
  }
  const files = new Set(host.hiddenFiles ?? []);
  for (const h of unique(init.hide ?? [])) {
    const p = absolute(h, 'hide');
    if (files.has(p)) a.push('--ro-bind', '/dev/null', p);
    else a.push('--tmpfs', p);
  }
  for (const w of unique([runDir, ...init.writable.map((w) => absolute(w, 'writable'))])) a.push('--bind', w, w);

  for (const name of unique(host.unsetEnv ?? SECRET_ENV_NAMES)) a.push('--unsetenv', name);
  a.push('--setenv', 'HOME', runDir, '--setenv', 'TMPDIR', '/tmp');
  for (const [k, v] of Object.entries(init.env ?? {})) a.push('--setenv', k, v);
  a.push('--chdir', runDir);
  return a;
}

export interface DetectOptions {
  /** The bwrap binary (a name on PATH or a path). Default 'bwrap'. */
  bwrap?: string;
  /** Throw SandboxError instead of returning kind 'none'. */
  require?: boolean;
}

const probes = new Map<string, Promise<Sandbox>>();

/**
 * 'bwrap' when bwrap works here (probed once per binary: `bwrap <the real options> -- true`), else
 * 'none' (wrap = identity) with the reason.
 */
export async function detectSandbox(opts: DetectOptions = {}): Promise<Sandbox> {
  const bin = opts.bwrap ?? 'bwrap';
  let p = probes.get(bin);
  if (!p) {
    p = probe(bin);
    probes.set(bin, p);
  }
  const sb = await p;
  if (opts.require && sb.kind === 'none') {
    throw new SandboxError(`no sandbox for trainer processes: ${sb.reason}`, { hint: UNAVAILABLE_HINT });
  }
  return sb;
}

const UNAVAILABLE_HINT =
  'Install bubblewrap (Debian/Ubuntu: `apt-get install -y bubblewrap`). If it is installed but fails, the kernel or ' +
  'container forbids user namespaces: allow them (`sysctl kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04, where ' +
  'bwrap says "setting up uid map: Permission denied", `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or an ' +
  'unconfined AppArmor profile for /usr/bin/bwrap; in Docker run with ' +
  '`--security-opt seccomp=unconfined --security-opt apparmor=unconfined` or as root with --privileged).';

export function noSandbox(reason: string): Sandbox {
  return { kind: 'none', reason, wrap: (cmd) => [...cmd] };
}

async function probe(bin: string): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), 'swarm-bwrap-probe-'));
  try {
    const init: SandboxInit = { runDir: join(dir, 'run'), writable: [join(dir, 'cache')] };
    let lastError = '';
    for (const disableUserns of [true, false]) {
      const sb = bwrapSandbox(bin, disableUserns);
      const cmd = sb.wrap(['true'], init);
      const r = await execa(cmd[0]!, cmd.slice(1), { reject: false, timeout: 20_000, stdin: 'ignore', all: true });
      if (r.exitCode === 0) return sb;
      const code = (r as { code?: string }).code;
      if (code === 'ENOENT') return noSandbox(`"${bin}" is not installed (not found on PATH)`);
      lastError = (r.all ?? '').trim() || r.shortMessage || `exit code ${r.exitCode}`;
    }
    return noSandbox(`"${bin}" is installed but cannot create a sandbox here: ${lastError}`);
  } catch (err) {
    return noSandbox(`"${bin}" could not be run: ${(err as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A bwrap sandbox without probing (detectSandbox() is the normal way in). */
export function bwrapSandbox(bin = 'bwrap', disableUserns = false): Sandbox {
  return {
    kind: 'bwrap',
    reason: null,
    wrap(cmd: string[], init: SandboxInit): string[] {
      if (cmd.length === 0) throw new SandboxError('cannot sandbox an empty command');
      // The program's own installation (a virtual environment's bin/.., say) must stay visible even
      // where it lives under a folder the sandbox replaces, such as a checkout under /tmp.
      const own = isAbsolute(cmd[0]!) ? [dirname(dirname(cmd[0]!))] : [];
      const { init: real, host } = hostFacts({ ...init, readonly: [...own, ...(init.readonly ?? [])] }, disableUserns);
      return [bin, ...bwrapArgs(real, host), '--', ...cmd];
    },
  };
}

/**
 * Looks at the host for one run: creates the writable folders (bwrap needs them), resolves symlinks,
 * keeps only hidden paths that exist, lists the GPU device nodes, and collects secret-looking
 * environment variable names.
 */
function hostFacts(init: SandboxInit, disableUserns: boolean): { init: SandboxInit; host: HostFacts } {
  const runDir = resolve(init.runDir);
  mkdirSync(runDir, { recursive: true });
  const writable = init.writable.map((w) => {
    mkdirSync(resolve(w), { recursive: true });
    return realpathSync(resolve(w));
  });
  const readonly = (init.readonly ?? []).map((r) => resolve(r)).filter(existsSync).map((r) => realpathSync(r));
  const hide: string[] = [];
  const hiddenFiles: string[] = [];
  for (const h of [...defaultHidden(homedir()), ...(init.hide ?? [])]) {
    const p = resolve(h);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue; // nothing there to hide
    }
    if (st.isSymbolicLink()) {
      // hide what it points to (the link itself stays, pointing at an empty folder / null)
      let target: string;
      try {
        target = realpathSync(p);
      } catch {
        continue;
      }
      const t = lstatSync(target);
      hide.push(target);
      if (!t.isDirectory()) hiddenFiles.push(target);
    } else {
      hide.push(p);
      if (!st.isDirectory()) hiddenFiles.push(p);
    }
  }
  // SWARM_* is the trainer's own interface (SWARM_BUDGET_TOKENS, SWARM_SEED…), never a secret.
  const unsetEnv = [...SECRET_ENV_NAMES, ...Object.keys(process.env).filter((k) => SECRET_NAME.test(k) && !k.startsWith('SWARM_'))];
  const host: HostFacts = { hiddenFiles, unsetEnv, disableUserns };
  if (init.allowGpu) host.gpuDevices = gpuDevices();
  const real: SandboxInit = { ...init, runDir: realpathSync(runDir), writable, readonly, hide };
  return { init: real, host };
}

function gpuDevices(): string[] {
  let names: string[];
  try {
    names = readdirSync('/dev');
  } catch {
    return [];
  }
  return names.filter((n) => /^nvidia/.test(n) || n === 'dri' || n === 'kfd').sort().map((n) => `/dev/${n}`);
}

function absolute(p: string, what: string): string {
  if (!isAbsolute(p)) throw new SandboxError(`sandbox ${what} path must be absolute: ${JSON.stringify(p)}`);
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
