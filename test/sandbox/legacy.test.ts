import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapArgs, detectSandbox, SandboxError, type Sandbox, type SandboxInit } from '../../src/sandbox/legacy.js';
import { pythonTrainer } from '../../src/runner/index.js';
import { PYTHON, REPO, STUB_TRAINER } from '../helpers/paths.js';

describe('bwrapArgs (pure)', () => {
  const init: SandboxInit = { runDir: '/tmp/runs/r1', writable: ['/var/cache/swarm'], readonly: ['/tmp/trainer'] };

  it('isolates namespaces, mounts the root read-only and binds only what is writable', () => {
    const a = bwrapArgs(init);
    for (const flag of ['--unshare-all', '--die-with-parent', '--new-session']) expect(a).toContain(flag);
    const seq = a.join(' ');
    expect(seq).toContain('--cap-drop ALL');
    expect(seq).toContain('--ro-bind / /');
    expect(seq).toContain('--dev /dev');
    expect(seq).toContain('--proc /proc');
    expect(seq).toContain('--tmpfs /tmp');
    expect(seq).toContain('--tmpfs /dev/shm');
    expect(seq).toContain('--bind /tmp/runs/r1 /tmp/runs/r1');
    expect(seq).toContain('--bind /var/cache/swarm /var/cache/swarm');
    expect(seq).toContain('--ro-bind /tmp/trainer /tmp/trainer');
    expect(seq).toContain('--setenv HOME /tmp/runs/r1');
    expect(seq).toContain('--chdir /tmp/runs/r1');
    expect(seq).toContain('--unsetenv ANTHROPIC_API_KEY');
    expect(seq).not.toContain('--share-net');
    expect(seq).not.toContain('--dev-bind');
    // later mounts go on top: root first, then /tmp, then read-only binds, then the run folder
    const at = (s: string) => seq.indexOf(s);
    expect(at('--ro-bind / /')).toBeLessThan(at('--tmpfs /tmp'));
    expect(at('--tmpfs /tmp')).toBeLessThan(at('--ro-bind /tmp/trainer'));
    expect(at('--ro-bind /tmp/trainer')).toBeLessThan(at('--bind /tmp/runs/r1'));
  });

  it('keeps the run folder writable and the state folder hidden inside a read-only checkout', () => {
    const seq = bwrapArgs({ runDir: '/repo/node/state/runs/r1', writable: [], readonly: ['/repo'], hide: ['/repo/node/state'] }).join(' ');
    const at = (s: string) => seq.indexOf(s);
    expect(at('--ro-bind /repo /repo')).toBeLessThan(at('--tmpfs /repo/node/state'));
    expect(at('--tmpfs /repo/node/state')).toBeLessThan(at('--bind /repo/node/state/runs/r1 /repo/node/state/runs/r1'));
  });

  it('binds GPU device nodes only with allowGpu', () => {
    const a = bwrapArgs({ ...init, allowGpu: true }, { gpuDevices: ['/dev/nvidia0', '/dev/nvidiactl'] }).join(' ');
    expect(a).toContain('--dev-bind-try /dev/nvidia0 /dev/nvidia0');
    expect(a).toContain('--dev-bind-try /dev/nvidiactl /dev/nvidiactl');
    const d = bwrapArgs({ ...init, allowGpu: true }).join(' ');
    expect(d).toContain('--dev-bind-try /dev/nvidia-uvm /dev/nvidia-uvm');
    expect(d).toContain('--dev-bind-try /dev/dri /dev/dri');
  });

  it('hides folders behind a tmpfs and files behind /dev/null, before the writable binds', () => {
    const a = bwrapArgs({ ...init, runDir: '/srv/state/runs/r1', hide: ['/srv/state', '/root/.netrc'] }, { hiddenFiles: ['/root/.netrc'] }).join(' ');
    expect(a).toContain('--tmpfs /srv/state');
    expect(a).toContain('--ro-bind /dev/null /root/.netrc');
    expect(a.indexOf('--tmpfs /srv/state')).toBeLessThan(a.indexOf('--bind /srv/state/runs/r1'));
  });

  it('adds --disable-userns when the host supports it, and extra env', () => {
    const a = bwrapArgs({ ...init, env: { TORCHINDUCTOR_CACHE_DIR: '/var/cache/swarm/inductor' } }, { disableUserns: true }).join(' ');
    expect(a).toContain('--unshare-user --disable-userns');
    expect(a).toContain('--setenv TORCHINDUCTOR_CACHE_DIR /var/cache/swarm/inductor');
  });

  it('refuses relative paths', () => {
    expect(() => bwrapArgs({ runDir: 'runs/r1', writable: [] })).toThrow(SandboxError);
  });
});

describe('detectSandbox without bwrap', () => {
  it("falls back to 'none' with a reason, and wrap is the identity", async () => {
    const sb = await detectSandbox({ bwrap: '/nonexistent/bwrap' });
    expect(sb.kind).toBe('none');
    expect(sb.reason).toMatch(/not installed/);
    expect(sb.wrap(['python', 'train.py'], { runDir: '/tmp/x', writable: [] })).toEqual(['python', 'train.py']);
  });

  it('throws SandboxError with an install hint when required', async () => {
    await expect(detectSandbox({ bwrap: '/nonexistent/bwrap', require: true })).rejects.toThrow(SandboxError);
    await expect(detectSandbox({ bwrap: '/nonexistent/bwrap', require: true })).rejects.toMatchObject({ hint: expect.stringMatching(/apt-get install -y bubblewrap/) });
  });
});

// ---- real bwrap ------------------------------------------------------------------------------------

const bwrapInstalled = spawnSync('bwrap', ['--version']).status === 0;
if (!bwrapInstalled) console.warn('[sandbox tests] bwrap is not installed: real-sandbox tests skipped (apt-get install -y bubblewrap)');

describe.skipIf(!bwrapInstalled)('real bwrap sandbox', () => {
  let sb: Sandbox;
  let root: string;
  let init: SandboxInit;
  let server: Server;
  let port = 0;
  const marker = `swarm-sbx-${process.pid}-${Date.now()}`;
  const outsideTargets = [join(homedir(), marker), join(REPO, marker), join('/tmp', marker)];

  beforeAll(async () => {
    // bwrap is installed: from here on a failure to sandbox is a test failure, not a skip
    sb = await detectSandbox();
    expect(sb.reason).toBeNull();
    expect(sb.kind).toBe('bwrap');
    root = mkdtempSync(join(tmpdir(), 'swarm-sbx-'));
    // As `swarm join` does: the checkout is bound read-only, so it stays visible (and unwritable) even under /tmp.
    init = { runDir: join(root, 'runs', 'r1'), writable: [join(root, 'cache')], readonly: [REPO] };
    server = createServer((sock) => sock.end('hello\n'));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((ok) => server?.close(() => ok()));
    if (root) rmSync(root, { recursive: true, force: true });
    for (const p of outsideTargets) rmSync(p, { force: true });
  });

  /** Runs `python -c code` (plain or sandboxed); returns stdout parsed as JSON. */
  async function py(code: string, sandboxed = true, extra: Partial<SandboxInit> = {}, env: Record<string, string> = {}) {
    const base = [PYTHON, '-c', code];
    const cmd = sandboxed ? sb.wrap(base, { ...init, ...extra }) : base;
    const r = await execa(cmd[0]!, cmd.slice(1), { reject: false, env, timeout: 120_000 });
    expect(r.exitCode, `${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  }

  const CONNECT = (port: number) => `
import json, socket
try:
    s = socket.create_connection(("127.0.0.1", ${port}), timeout=5)
    data = s.recv(16).decode()
    print(json.dumps({"connected": True, "data": data}))
except OSError as e:
    print(json.dumps({"connected": False, "error": repr(e)}))
`;

  it('cannot open a TCP connection to a server on the host 127.0.0.1 (but can outside the sandbox)', async () => {
    expect(await py(CONNECT(port), false)).toMatchObject({ connected: true, data: 'hello\n' });
    const inside = await py(CONNECT(port), true);
    expect(inside.connected).toBe(false);
    expect(String(inside.error)).toMatch(/Connection refused|Network is unreachable/);
  });

  it('has no network interface but loopback', async () => {
    // No packet to any other address is tried from here: the check is the interface list itself.
    const r = await py(`
import json, socket
print(json.dumps({"ifaces": [n for _, n in socket.if_nameindex()]}))`);
    expect(r).toEqual({ ifaces: ['lo'] });
  });

  it('cannot write to the real HOME, the repo or the host /tmp; can write the run folder, the cache and /dev/shm', async () => {
    const targets = {
      home: outsideTargets[0]!,
      repo: outsideTargets[1]!,
      hostTmp: outsideTargets[2]!,
      run: join(init.runDir, 'out.txt'),
      cache: join(init.writable[0]!, 'out.txt'),
      shm: '/dev/shm/' + marker,
      tildeHome: '~/' + 'out-home.txt',
    };
    const r = await py(`
import json, os
targets = json.loads(${JSON.stringify(JSON.stringify(targets))})
res = {}
for name, path in targets.items():
    path = os.path.expanduser(path)
    try:
        with open(path, "w") as f:
            f.write("x")
        res[name] = "ok"
    except OSError as e:
        res[name] = type(e).__name__ + ": " + e.strerror
res["HOME"] = os.environ["HOME"]
res["cwd"] = os.getcwd()
print(json.dumps(res))`);
    expect(r.home).toMatch(/Read-only file system|Permission denied/);
    expect(r.repo).toMatch(/Read-only file system|Permission denied/);
    expect(r.run).toBe('ok');
    expect(r.cache).toBe('ok');
    expect(r.shm).toBe('ok');
    expect(r.tildeHome).toBe('ok'); // HOME is the run folder
    expect(r.hostTmp).toBe('ok'); // a private /tmp ...
    expect(r.HOME).toBe(init.runDir);
    expect(r.cwd).toBe(init.runDir);
    // ... and none of it leaks out, while the run folder and the cache keep what was written
    for (const p of outsideTargets) expect(existsSync(p), p).toBe(false);
    expect(existsSync('/dev/shm/' + marker)).toBe(false);
    expect(readFileSync(targets.run, 'utf8')).toBe('x');
    expect(readFileSync(targets.cache, 'utf8')).toBe('x');
    expect(existsSync(join(init.runDir, 'out-home.txt'))).toBe(true);
  });

  it('hides the folders it is told to (a node state folder with its control socket) and secrets in the environment', async () => {
    // outside /tmp (which the sandbox replaces anyway), like a real node home
    const stateRoot = join(REPO, '.cache', marker);
    const state = join(stateRoot, 'state');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'secret.txt'), 'db contents');
    const sock = join(state, 'control.sock');
    const unix = createServer((s) => s.end('control\n'));
    await new Promise<void>((ok) => unix.listen(sock, ok));
    try {
      const code = `
import json, os, socket
out = {"listing": os.listdir(${JSON.stringify(state)}), "key": os.environ.get("ANTHROPIC_API_KEY"),
       "custom": os.environ.get("MY_SERVICE_TOKEN"), "plain": os.environ.get("SWARM_DATASET"),
       "swarm": os.environ.get("SWARM_TOKEN_BUDGET")}
try:
    s = socket.socket(socket.AF_UNIX); s.connect(${JSON.stringify(sock)}); out["control"] = s.recv(16).decode()
except OSError as e:
    out["control"] = type(e).__name__
print(json.dumps(out))`;
      process.env.MY_SERVICE_TOKEN = 'tok';
      process.env.SWARM_TOKEN_BUDGET = '1000'; // looks like a secret's name, but SWARM_* is the trainer's interface
      const env = { ANTHROPIC_API_KEY: 'sk-secret', MY_SERVICE_TOKEN: 'tok', SWARM_DATASET: 'sotu', SWARM_TOKEN_BUDGET: '1000' };
      const runDir = join(state, 'runs', 'r2');
      const r = await py(code, true, { runDir, hide: [state] }, env);
      expect(r).toEqual({ listing: ['runs'], key: null, custom: null, plain: 'sotu', swarm: '1000', control: 'FileNotFoundError' });
      // without hiding it, the read-only root would let it connect: Unix sockets ignore read-only mounts
      const open = await py(code, true, { runDir }, env);
      expect(open.control).toBe('control\n');
    } finally {
      delete process.env.MY_SERVICE_TOKEN;
      delete process.env.SWARM_TOKEN_BUDGET;
      await new Promise<void>((ok) => unix.close(() => ok()));
      rmSync(stateRoot, { recursive: true, force: true });
    }
  });

  it('imports torch and runs a tiny CPU matmul', async () => {
    const r = await py(`
import json, torch
a = torch.ones(64, 64); b = torch.full((64, 64), 2.0)
print(json.dumps({"sum": (a @ b).sum().item(), "threads": torch.get_num_threads() > 0}))`);
    expect(r).toEqual({ sum: 64 * 64 * 128, threads: true });
  });

  it('kills the whole sandboxed tree when the process group is killed (as the runner does on timeout)', async () => {
    const tag = `${1000 + (process.pid % 1000)}.${Date.now() % 100000}`;
    const cmd = sb.wrap(['sh', '-c', `sleep ${tag} & sleep ${tag}; wait`], init);
    const sub = execa(cmd[0]!, cmd.slice(1), { detached: true, reject: false, cleanup: false });
    const sleepers = () =>
      readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`sleep\0${tag}`);
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 100 && sleepers().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(sleepers()).toHaveLength(2);
    process.kill(-sub.pid!, 'SIGTERM');
    await sub;
    for (let i = 0; i < 100 && sleepers().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(sleepers()).toEqual([]);
  });

  it('fits the runner seam: the stub trainer runs sandboxed through pythonTrainer', async () => {
    const runDir = join(root, 'runs', 'stub');
    const cacheDir = join(root, 'cache');
    const trainer = pythonTrainer({
      python: PYTHON,
      trainerDir: STUB_TRAINER,
      cacheDir,
      dataset: 'sotu',
      budgetSeconds: 5,
      timeoutSeconds: 60,
      wrap: (cmd) => sb.wrap(cmd, { runDir, writable: [cacheDir], readonly: [STUB_TRAINER] }),
    });
    const r = await trainer.run({ source: readFileSync(join(STUB_TRAINER, 'train.py'), 'utf8'), runDir });
    expect(r.reason).toBeNull();
    expect(r.outcome).toBe('ok');
    expect(r.metrics?.val_bpb).toBeGreaterThan(0);
  });

  it('overhead: sandbox setup, and sandboxed `python -c "import torch"` vs plain', async () => {
    const time = async (base: string[], sandboxed: boolean) => {
      const cmd = sandboxed ? sb.wrap(base, init) : base;
      const t0 = performance.now();
      const r = await execa(cmd[0]!, cmd.slice(1), { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
      return performance.now() - t0;
    };
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // the sandbox's own cost: bwrap setting up namespaces and mounts around `true`
    const setup: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < 5; i++) {
      bare.push(await time(['true'], false));
      setup.push(await time(['true'], true));
    }
    // import torch, interleaved so both see the same machine load (noisy: ±200 ms run to run)
    const torchPy = [PYTHON, '-c', 'import torch'];
    await time(torchPy, false); // warm the page cache
    const plain: number[] = [];
    const boxed: number[] = [];
    for (let i = 0; i < 3; i++) {
      plain.push(await time(torchPy, false));
      boxed.push(await time(torchPy, true));
    }
    console.log(
      `[sandbox overhead] true: plain ${med(bare).toFixed(0)} ms, bwrap ${med(setup).toFixed(0)} ms; ` +
        `import torch: plain ${med(plain).toFixed(0)} ms, bwrap ${med(boxed).toFixed(0)} ms (medians)`,
    );
    expect(med(setup) - med(bare)).toBeLessThan(500);
  });
});
