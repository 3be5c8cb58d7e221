/**
 * The fence: detects which layers this box can provide (once) and turns a command into the chain
 * that runs it inside them:
 *
 *   sh (joins the run's cgroup, opens the seccomp filter on fd 3)
 *     → prlimit (rlimits)
 *       → bwrap (file system view, namespaces, empty environment, seccomp)
 *         → setpriv (root node only: uid/gid 65534, no capabilities)
 *           → the command
 *
 * The uid drop happens inside bwrap, not before it: bwrap run as root needs no user namespace, so
 * it can bind folders only root may enter (a pyenv Python under /root), and the run's uid is then
 * 65534 on the host too, not just inside a namespace, so what it writes is nobody's and it owns
 * nothing of the host's. A non-root node's run keeps the node's uid inside a user namespace.
 */
import { chmodSync, lchownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { detectCgroup, type CgroupHost, type RunCgroup } from './cgroup.js';
import { diskOver, watchDisk } from './disk.js';
import { allowedEnv, runEnv } from './env.js';
import { SandboxError } from './errors.js';
import { findTool, identityFiles, NOBODY } from './host.js';
import { defaultLimits, formatBytes, prlimitArgs } from './limits.js';
import { pythonPaths } from './python.js';
import { seccompFilter } from './seccomp.js';
import { LAYER_NAMES, type Fence, type FencedRun, type FenceLimits, type FenceSpec, type LayerName } from './types.js';
import { gpuDevices } from './gpus.js';
import { hostSystem, interpreterBinds, resolvedBind, viewArgs, type SystemEntry } from './view.js';

/** How runs are built on this box: the tools of each layer in force (null: layer missing). */
interface Plan {
  sh: string;
  bwrap: string | null;
  namespaces: string[];
  setpriv: string | null;
  seccomp: string | null;
  cgroup: CgroupHost | null;
  prlimit: string | null;
  system: SystemEntry[];
  etc: string[];
}

type Layers = Record<LayerName, string | null>;

const ROOT = process.getuid?.() === 0;
/** setpriv, which sets the parent-death signal of the chain (any node, root or not). */
const DEATHSIG = findTool('setpriv');

/** Namespaces for a root node: all but the user namespace (see the top), capabilities only to drop the uid. */
const ROOT_NAMESPACES = [
  '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try',
  '--die-with-parent', '--new-session',
  '--cap-drop', 'ALL', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP',
];
/** Namespaces for a non-root node; --disable-userns needs bwrap 0.8 and a kernel that allows it. */
const userNamespaces = (disableUserns: boolean) => [
  '--unshare-all', ...(disableUserns ? ['--unshare-user', '--disable-userns'] : []),
  '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
];
const SETPRIV_ARGS = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--'];

/**
 * Joins the cgroup(s) and opens the filter before exec, so the run is limited from its first
 * instruction. Arguments: filter file ('' for none), folder to start in, cgroup.procs files, --.
 */
const JOIN = [
  'bpf=$1; dir=$2; shift 2',
  'while [ "$1" != -- ]; do echo $$ > "$1" || { echo "fence: cannot join cgroup $1" >&2; exit 125; }; shift; done; shift',
  'cd "$dir" || exit 125',
  'if [ -n "$bpf" ]; then exec "$@" 3<"$bpf"; fi',
  'exec "$@"',
].join('\n');

export interface DetectOptions {
  /** The bwrap binary. Default: bwrap on PATH. */
  bwrap?: string;
  /** The interpreter that builds the seccomp filter (it needs pyseccomp). Default: python3 on PATH. */
  python?: string;
  /** The limits describe() names. Default: defaultLimits(). */
  limits?: FenceLimits;
}

const detected = new Map<string, Promise<Fence>>();

/**
 * Probes every layer (a real run of `true` through each candidate chain) and returns the fence.
 * Once per process and options: a box does not grow layers while the node runs.
 */
export function detectFence(opts: DetectOptions = {}): Promise<Fence> {
  const key = JSON.stringify([opts.bwrap, opts.python, opts.limits]);
  let f = detected.get(key);
  if (!f) {
    f = detect(opts);
    detected.set(key, f);
  }
  return f;
}

async function detect(opts: DetectOptions): Promise<Fence> {
  const limits = opts.limits ?? defaultLimits();
  const layers: Layers = { filesystem: null, network: null, user: null, seccomp: null, cgroup: null, rlimits: null };
  const python = findTool(opts.python ?? 'python3');
  const bwrapName = opts.bwrap ?? 'bwrap';
  const [cg, filter] = await Promise.all([detectCgroup(), python ? seccompFilter(python) : Promise.resolve({ file: null, reason: 'no python3 to build the filter with' })]);
  const plan: Plan = {
    sh: findTool('sh') ?? '/bin/sh',
    bwrap: findTool(bwrapName),
    namespaces: ROOT ? ROOT_NAMESPACES : userNamespaces(true),
    setpriv: ROOT ? findTool('setpriv') : null,
    seccomp: filter.file,
    cgroup: cg.host,
    prlimit: findTool('prlimit'),
    ...hostSystem(),
  };
  layers.cgroup = cg.reason;
  layers.seccomp = filter.reason;
  if (!plan.prlimit) layers.rlimits = 'prlimit (util-linux) not found';
  if (ROOT && !plan.setpriv) layers.user = 'setpriv (util-linux) not found: runs would be root';
  if (!plan.bwrap) return withoutBwrap(plan, layers, `bubblewrap not installed ("${bwrapName}" not found)`, limits);
  return settle(plan, layers, limits);
}

/** One thing a probe may leave out when the full chain fails here, and what the reason then says. */
interface Drop {
  layer: LayerName | null;
  words: string;
  apply(p: Plan): Plan | null;
}
const DROPS: Drop[] = [
  { layer: 'cgroup', words: 'cannot move a run into its cgroup', apply: (p) => (p.cgroup ? { ...p, cgroup: null } : null) },
  // older bwrap or kernel without --disable-userns: nested namespaces stay refused by seccomp
  { layer: null, words: '', apply: (p) => (!ROOT && p.namespaces.includes('--disable-userns') ? { ...p, namespaces: userNamespaces(false) } : null) },
  { layer: 'seccomp', words: 'bwrap refused the filter', apply: (p) => (p.seccomp ? { ...p, seccomp: null } : null) },
  { layer: 'user', words: `cannot drop to uid ${NOBODY}`, apply: (p) => (p.setpriv ? { ...p, setpriv: null } : null) },
];

/**
 * Probes the full chain; when it fails, finds the one part whose absence makes it work and names
 * that layer with bwrap's error. If no single part does, all of them go; if even that fails,
 * bubblewrap itself cannot run here.
 */
async function settle(plan: Plan, layers: Layers, limits: FenceLimits): Promise<Fence> {
  const err = await probe(plan);
  if (err === null) return makeFence(plan, layers, limits);
  for (const d of DROPS) {
    const p = d.apply(plan);
    if (p && (await probe(p)) === null) {
      if (d.layer) layers[d.layer] = `${d.words}: ${err}`;
      return makeFence(p, layers, limits);
    }
  }
  let bare = plan;
  for (const d of DROPS) {
    const p = d.apply(bare);
    if (!p) continue;
    bare = p;
    if (d.layer) layers[d.layer] = `${d.words}: ${err}`;
  }
  if ((await probe(bare)) === null) return makeFence(bare, layers, limits);
  return withoutBwrap(plan, layers, `bubblewrap cannot make a fence here: ${err}`, limits);
}

function withoutBwrap(plan: Plan, layers: Layers, reason: string, limits: FenceLimits): Fence {
  for (const l of ['filesystem', 'network', 'seccomp'] as const) layers[l] = reason;
  layers.user ??= reason;
  return makeFence({ ...plan, bwrap: null, setpriv: null, seccomp: null }, layers, limits);
}

/**
 * Why `true` does not run through this plan's chain, or null when it does. No interpreter is bound
 * (python ''): the probe is about the layers, and an interpreter's own trouble shows in its run.
 */
async function probe(plan: Plan): Promise<string | null> {
  const dir = mkdtempSync(join(tmpdir(), 'swarm-fence-probe-'));
  const limits: FenceLimits = { memoryBytes: 256 * 1024 ** 2, processes: 64, cpus: 1, diskBytes: 16 * 1024 ** 2 };
  let run: FencedRun | null = null;
  try {
    run = await enterWith(plan, ['true'], { runDir: dir, binds: [], env: {}, python: '', gpu: false, limits }, () => {});
    const r = await execa(run.cmd[0]!, run.cmd.slice(1), { env: run.env, extendEnv: false, reject: false, timeout: 20_000, stdin: 'ignore', all: true });
    return r.exitCode === 0 ? null : oneLine(r.all || r.shortMessage || `exit code ${r.exitCode}`);
  } catch (err) {
    return oneLine((err as Error).message);
  } finally {
    await run?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fence without bubblewrap: the environment allowlist and the rlimits still apply. */
export function noFence(reason: string): Fence {
  const prlimit = findTool('prlimit');
  const layers: Layers = { filesystem: reason, network: reason, user: reason, seccomp: reason, cgroup: reason, rlimits: prlimit ? null : 'prlimit (util-linux) not found' };
  const plan: Plan = { sh: findTool('sh') ?? '/bin/sh', bwrap: null, namespaces: [], setpriv: null, seccomp: null, cgroup: null, prlimit, system: [], etc: [] };
  return makeFence(plan, layers, defaultLimits());
}

function makeFence(plan: Plan, layers: Layers, limits: FenceLimits): Fence {
  const frozen = Object.freeze({ ...layers });
  const complete = LAYER_NAMES.every((l) => frozen[l] === null);
  return {
    layers: frozen,
    complete,
    describe: () => describeLayers(frozen, plan, limits),
    enter: (cmd, spec, onLimit) => enterWith(plan, cmd, spec, onLimit),
  };
}

function describeLayers(layers: Layers, plan: Plan, limits: FenceLimits): string {
  const held = LAYER_NAMES.filter((l) => layers[l] === null).map((l) => {
    if (l === 'user') return `user ${plan.setpriv ? NOBODY : process.getuid?.()}`;
    if (l === 'cgroup' && plan.cgroup) {
      const cpu = limits.cpus > 0 ? `, ${limits.cpus} cpus` : '';
      return `${plan.cgroup.kind} (memory ${formatBytes(limits.memoryBytes)}, ${limits.processes} processes${cpu})`;
    }
    return l;
  });
  const missing = LAYER_NAMES.filter((l) => layers[l] !== null).map((l) => `${l} missing (${layers[l]})`);
  if (missing.length === 0) return `fence: ${held.join(', ')}`;
  return `fence incomplete: ${[...held, ...missing].join(', ')}`;
}

async function enterWith(plan: Plan, cmd: string[], spec: FenceSpec, onLimit: (reason: string) => void): Promise<FencedRun> {
  if (cmd.length === 0) throw new SandboxError('cannot fence an empty command');
  const runDir = resolvedBind(spec.runDir);
  if (plan.setpriv) giveRunFolder(runDir.src, spec.runDirReadonly === true);
  const inner = runEnv(runDir.dest, plan.bwrap ? '/tmp' : tmpdir(), spec.env);
  let cg: RunCgroup | null = null;
  try {
    cg = plan.cgroup?.create(spec.limits) ?? null;
  } catch (err) {
    throw new SandboxError(`cannot make the run's cgroup: ${(err as Error).message}`, { cause: err, hint: 'Check that the node may still write its cgroup (it could when it started).' });
  }
  try {
    const inside = plan.bwrap ? await bwrapCommand(plan, cmd, spec, runDir, inner) : cmd;
    const rl = plan.prlimit ? prlimitArgs(plan.prlimit, spec.limits, !cg, spec.gpu) : [];
    // The chain execs down to bwrap, the node's child: it must die with the node even when the node is
    // killed with -9 (bwrap's --die-with-parent only ties the sandbox to bwrap itself).
    const dieWithNode = plan.bwrap && DEATHSIG ? [DEATHSIG, '--pdeathsig', 'KILL', '--'] : [];
    const full = [plan.sh, '-c', JOIN, 'fence', plan.bwrap ? (plan.seccomp ?? '') : '', runDir.src, ...(cg?.procsFiles ?? []), '--', ...dieWithNode, ...rl, ...inside];
    // bwrap starts the run with an empty environment; the chain before it needs only PATH and locale.
    return fencedRun(full, plan.bwrap ? allowedEnv() : inner, spec, runDir.src, cg, onLimit);
  } catch (err) {
    await cg?.close();
    throw err;
  }
}

async function bwrapCommand(plan: Plan, cmd: string[], spec: FenceSpec, runDir: { src: string; dest: string }, env: Record<string, string>): Promise<string[]> {
  const uid = plan.setpriv ? NOBODY : process.getuid!();
  const gid = plan.setpriv ? NOBODY : process.getgid!();
  const devices = spec.gpu ? gpuDevices(spec.gpus) : [];
  const view = viewArgs({
    system: plan.system,
    etc: plan.etc,
    ...identityFiles(uid, gid),
    readonly: [...interpreterBinds(spec.python ? await pythonPaths(spec.python) : [], plan.system), ...callerBinds(spec, runDir.dest)],
    runDir: { ...runDir, readonly: spec.runDirReadonly === true },
    devices,
    sys: devices.length > 0,
    tmpBytes: spec.limits.diskBytes,
  });
  const setenv = Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]);
  return [
    plan.bwrap!, ...plan.namespaces, ...view, '--clearenv', ...setenv, '--chdir', runDir.dest,
    ...(plan.seccomp ? ['--seccomp', '3'] : []), '--',
    ...(plan.setpriv ? [plan.setpriv, ...SETPRIV_ARGS] : []), ...cmd,
  ];
}

/**
 * The caller's read-only binds, resolved. None may land inside the run folder: bwrap mounts as root,
 * and a link a run left there would decide where the mount goes.
 */
function callerBinds(spec: FenceSpec, runDir: string): { src: string; dest: string }[] {
  return spec.binds.map((b) => {
    const bind = resolvedBind(b.src, b.dest);
    if (bind.dest === runDir || bind.dest.startsWith(`${runDir}/`)) {
      throw new SandboxError(`a fence bind cannot go inside the run folder: ${bind.dest}`, { hint: 'Bind it beside the run folder (e.g. /data) and tell the run where.' });
    }
    return bind;
  });
}

function fencedRun(cmd: string[], env: Record<string, string>, spec: FenceSpec, dir: string, cg: RunCgroup | null, onLimit: (reason: string) => void): FencedRun {
  let diskHit: string | null = null;
  const watch = spec.runDirReadonly ? null : watchDisk(dir, spec.limits.diskBytes, (reason) => {
    diskHit = reason;
    onLimit(reason);
  });
  let closed: Promise<void> | null = null;
  return {
    cmd,
    env,
    async limitHit() {
      return diskHit ?? cg?.hit() ?? (spec.runDirReadonly ? null : await diskOver(dir, spec.limits.diskBytes));
    },
    peakMemoryBytes: () => cg?.peakBytes() ?? null,
    close() {
      closed ??= (async () => {
        watch?.stop();
        await cg?.close();
      })();
      return closed;
    },
  };
}

/**
 * Makes the run folder the run's (uid 65534) when it may write it. bwrap enters it as root without
 * capabilities, before the uid drop, so it also needs the search bit for others (a run that takes
 * it away stops only its own later evaluation).
 */
function giveRunFolder(dir: string, readonly: boolean): void {
  if (!readonly) chownTree(dir, NOBODY);
  chmodSync(dir, 0o711);
}

/** lchown all the way down: never through a link, whose target is not the run's. */
function chownTree(dir: string, uid: number): void {
  lchownSync(dir, uid, uid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid);
    else if (!e.isSymbolicLink()) lchownSync(p, uid, uid);
  }
}

function oneLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop()?.slice(0, 300) ?? '';
}
