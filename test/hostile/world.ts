/**
 * One variant's world: a fake HOME full of canary secrets, this node's state folder (identity key,
 * workspace, control socket, an earlier run), another node's state folder, a copy of the data cache,
 * listeners that record every connection, and a victim process of the same user. Each variant gets a
 * fresh world, so what one attack plants cannot act on the next.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openWorkspace } from '../../src/workspace/index.js';
import { REPO, TRAINER } from '../helpers/paths.js';

/** Environment variables set, with canary values, in the node's environment for the run. */
export const CANARY_ENV = ['OPENAI_KEY', 'PGPASSWORD', 'DATABASE_URL', 'ANTHROPIC_API_KEY', 'AWS_SECRET_ACCESS_KEY'] as const;

export interface World {
  root: string;
  home: string;
  state: string;
  other: string;
  cache: string;
  runDir: string;
  /** The random part of every canary: finding it anywhere means a secret was read. */
  canary: string;
  /** Placeholder values for the corpus. */
  values: Record<string, string>;
  /** Connections and signals that reached the host: must stay empty. */
  hits: string[];
  /** Paths outside every hashed folder that an attack may try to create: must not exist afterwards. */
  targets: string[];
  /** A process of the same user outside the run: must survive, untraced. */
  victim: ChildProcess;
  /** Environment the run is started with (canaries in it). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface WorldSizes {
  memBytes: number;
  procs: number;
  diskBytes: number;
  logBytes: number;
}

async function put(path: string, text: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text, { mode: 0o600 });
}

/** The secrets of a user's HOME, each holding a canary. */
async function plantHome(home: string, canary: string): Promise<void> {
  await put(join(home, '.ssh', 'id_ed25519'), `-----BEGIN OPENSSH PRIVATE KEY-----\n${canary}-ssh\n-----END OPENSSH PRIVATE KEY-----\n`);
  await put(join(home, '.bash_history'), `ls\nexport GITHUB_TOKEN=${canary}-history\n`);
  await put(join(home, '.config', 'claude', 'credentials.json'), JSON.stringify({ apiKey: `${canary}-agent` }));
  await put(join(home, '.config', 'openai', 'credentials.json'), JSON.stringify({ key: `${canary}-openai` }));
  await put(join(home, '.bashrc'), '# the user\'s own .bashrc\nalias ll="ls -l"\n');
  await put(join(home, '.gitconfig'), '[user]\n\tname = someone\n');
}

/** A node's state folder as `swarm join` lays it out (src/cli/layout.ts), with a previous run beside. */
async function plantState(dir: string, canary: string, baseline: string): Promise<void> {
  await put(join(dir, 'identity.key'), `${canary}-identity-${dir.endsWith('other') ? 'other' : 'own'}`);
  await put(join(dir, 'db', 'CURRENT'), 'MANIFEST-000001\n');
  await put(join(dir, 'runs', 'previous-run', 'train.py'), baseline);
  await put(join(dir, 'runs', 'previous-run', 'run.log'), 'val_bpb: 2.9\n');
  await openWorkspace({ dir: join(dir, 'workspace.git'), baseline });
}

function listen(server: Server, where: string | { port: number; host: string }): Promise<void> {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    if (typeof where === 'string') server.listen(where, ok);
    else server.listen(where.port, where.host, ok);
  });
}

/** A stream listener that records any connection under `label`. */
function recorder(hits: string[], label: string): Server {
  return createServer((sock) => {
    hits.push(`connection to ${label}`);
    sock.destroy(); // unread data would otherwise keep the connection, and close(), waiting
  });
}

async function startListeners(w: { hits: string[]; state: string; other: string; mark: string }) {
  const servers = {
    tcp: recorder(w.hits, 'TCP 127.0.0.1'),
    unix: recorder(w.hits, "the other node's control socket"),
    control: recorder(w.hits, "this node's control socket"),
    abstract: recorder(w.hits, 'an abstract unix socket'),
  };
  await listen(servers.tcp, { port: 0, host: '127.0.0.1' });
  await listen(servers.unix, join(w.other, 'control.sock'));
  await listen(servers.control, join(w.state, 'control.sock'));
  await listen(servers.abstract, `\0swarm-hostile-${w.mark}`);
  const udp = createSocket('udp4');
  udp.on('message', () => w.hits.push('UDP datagram to 127.0.0.1'));
  await new Promise<void>((ok) => udp.bind(0, '127.0.0.1', ok));
  const close = async () => {
    udp.close();
    await Promise.all(Object.values(servers).map((s) => new Promise((ok) => s.close(ok))));
  };
  return { tcpPort: (servers.tcp.address() as { port: number }).port, udpPort: udp.address().port, close };
}

/** A process of the node's user whose command line and environment carry canaries. */
function startVictim(mark: string, canary: string): ChildProcess {
  const child = spawn('bash', ['-c', `exec -a "swarm-victim-${mark} --password=${canary}-cmdline" sleep 600`], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', VICTIM_SECRET: `${canary}-environ` }, stdio: 'ignore',
  });
  child.on('error', () => {});
  return child;
}

let sitePackages: string | null = null;
/** The interpreter's site-packages: a .pth planted there runs in every later Python, the node's own included. */
export async function purelib(python: string): Promise<string> {
  if (sitePackages) return sitePackages;
  const { execa } = await import('execa');
  const r = await execa(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']);
  sitePackages = r.stdout.trim();
  return sitePackages;
}

/**
 * Where worlds are made: SWARM_HOSTILE_ROOT, else /var/tmp, else the temp folder. Not /tmp first: a fence
 * that only hides /tmp would hide a world there and pass, while real homes and state folders live
 * elsewhere (/home, /root, /srv).
 */
export function worldParent(): string {
  if (process.env.SWARM_HOSTILE_ROOT) return process.env.SWARM_HOSTILE_ROOT;
  try {
    accessSync('/var/tmp', constants.W_OK);
    return '/var/tmp';
  } catch {
    return tmpdir();
  }
}

export async function createWorld(opts: {
  name: string; pristineCache: string; baseline: string; python: string; sizes: WorldSizes;
}): Promise<World> {
  const root = await mkdtemp(join(worldParent(), 'swarm-hostile-'));
  const mark = randomBytes(6).toString('hex');
  const canary = `CANARY${randomBytes(9).toString('hex')}`;
  const [home, state, other, cache] = ['home', 'state', 'other', 'cache'].map((d) => join(root, d)) as [string, string, string, string];
  await plantHome(home, canary);
  await plantState(state, canary, opts.baseline);
  await plantState(other, canary, opts.baseline);
  await cp(opts.pristineCache, cache, { recursive: true, preserveTimestamps: true });
  const runDir = join(state, 'runs', `${opts.name}-${mark}`);
  const hits: string[] = [];
  const listeners = await startListeners({ hits, state, other, mark });
  const victim = startVictim(mark, canary);
  const site = await purelib(opts.python);
  const env: Record<string, string> = { HOME: home, SWARM_DEVICE: 'cpu' };
  for (const k of CANARY_ENV) env[k] = k === 'DATABASE_URL' ? `postgres://app:${canary}-env@db/prod` : `${canary}-env`;
  const values: Record<string, string> = {
    HOME: home, STATE: state, OTHER_STATE: other, CACHE: cache, TRAINER, REPO, MARK: mark,
    TCP_PORT: String(listeners.tcpPort), UDP_PORT: String(listeners.udpPort),
    UNIX_SOCK: join(other, 'control.sock'), CONTROL_SOCK: join(state, 'control.sock'), ABSTRACT: `swarm-hostile-${mark}`,
    VICTIM_PID: String(victim.pid ?? 0), VICTIM_NAME: `swarm-victim-${mark}`,
    MEM_BYTES: String(opts.sizes.memBytes), PROCS: String(opts.sizes.procs),
    DISK_BYTES: String(opts.sizes.diskBytes), LOG_BYTES: String(opts.sizes.logBytes),
  };
  const targets = [...new Set([
    join('/tmp', `swarm-hostile-${mark}`), join(process.cwd(), `hostile-${mark}`), join(REPO, `hostile-${mark}`),
    join(site, `zz-hostile-${mark}.pth`),
  ])];
  const close = async () => {
    victim.kill('SIGKILL');
    await listeners.close();
    for (const t of targets) await rm(t, { force: true, recursive: true });
    await rm(root, { recursive: true, force: true });
  };
  return { root, home, state, other, cache, runDir, canary, values, hits, targets, victim, env, close };
}

/** The baseline train.py, the honest tail of the corpus. */
export function readBaseline(): Promise<string> {
  return readFile(join(TRAINER, 'train.py'), 'utf8');
}
