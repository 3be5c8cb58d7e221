import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFence, noFence, type Fence } from '../../src/sandbox/index.js';
import { PYTHON, REPO } from '../helpers/paths.js';
import { fenced, processesWith, runFolder, SMALL } from './fenced.js';

const ROOT = process.getuid?.() === 0;
const bwrapInstalled = spawnSync('bwrap', ['--version']).status === 0;
if (!bwrapInstalled) console.warn('[fence tests] bwrap is not installed: attacks on the fence skipped (apt-get install -y bubblewrap)');

describe.skipIf(!bwrapInstalled)('the fence, attacked from inside', () => {
  let fence: Fence;
  let dirs: ReturnType<typeof runFolder>;
  const marker = `swarm-fence-${process.pid}-${Date.now()}`;
  const canary = `canary-${marker}`;
  // One canary in HOME (wherever it is, /tmp included), one in a folder of the checkout: neither is in the view.
  const outside = join(REPO, '.cache', marker);
  const homeCanary = join(homedir(), `${marker}.secret`);
  const otherCanary = join(outside, 'secret.txt');
  const socketPath = join(outside, 'control.sock');
  let unix: Server;
  let tcp: Server;
  let tcpPort = 0;
  let tcpConnections = 0;

  beforeAll(async () => {
    // bwrap is installed: from here on a missing filesystem or network layer is a failure, not a skip
    fence = await detectFence({ python: PYTHON });
    console.log(`[fence tests] ${fence.describe()}`);
    expect(fence.layers.filesystem).toBeNull();
    expect(fence.layers.network).toBeNull();
    dirs = runFolder();
    mkdirSync(outside, { recursive: true });
    writeFileSync(homeCanary, canary);
    writeFileSync(otherCanary, canary);
    unix = createServer((s) => s.end(`${canary}\n`));
    await new Promise<void>((ok) => unix.listen(socketPath, ok));
    tcp = createServer((s) => {
      tcpConnections++;
      s.end(`${canary}\n`);
    });
    await new Promise<void>((ok) => tcp.listen(0, '127.0.0.1', ok));
    tcpPort = (tcp.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((ok) => (unix ? unix.close(() => ok()) : ok()));
    await new Promise<void>((ok) => (tcp ? tcp.close(() => ok()) : ok()));
    rmSync(outside, { recursive: true, force: true });
    rmSync(homeCanary, { force: true });
    dirs?.cleanup();
  });

  const attack = (code: string, spec: Record<string, unknown> = {}, timeoutMs?: number) => fenced(fence, code, { runDir: dirs.runDir, ...spec }, timeoutMs);
  const skipUnless = (layer: keyof Fence['layers']) => {
    if (fence.layers[layer] !== null) console.warn(`[fence tests] ${layer} attack skipped: ${fence.layers[layer]}`);
    return fence.layers[layer] !== null;
  };

  it('cannot read a canary in HOME or in another folder outside the view, nor list HOME', async () => {
    const r = await attack(`
import json, os
out = {}
for name, p in {"home": ${JSON.stringify(homeCanary)}, "other": ${JSON.stringify(otherCanary)}, "passwd": "/etc/shadow"}.items():
    try:
        out[name] = open(p).read()
    except OSError as e:
        out[name] = type(e).__name__
try:
    out["homeList"] = os.listdir(${JSON.stringify(homedir())})
except OSError as e:
    out["homeList"] = type(e).__name__
out["root"] = sorted(os.listdir("/"))
print(json.dumps(out))`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(canary);
    expect(r.json.home).toMatch(/FileNotFoundError|PermissionError/);
    expect(r.json.other).toBe('FileNotFoundError');
    expect(r.json.passwd).toBe('FileNotFoundError');
    if (!homedir().startsWith(dirs.root)) expect(r.json.homeList).not.toEqual(expect.arrayContaining([`${marker}.secret`]));
    // only the allowlist: no /home, /var, /opt, /srv, /mnt of the host
    for (const hidden of ['home', 'var', 'opt', 'srv', 'mnt', 'boot']) expect(r.json.root).not.toContain(hidden);
  });

  it('gets none of the node\'s secret variables: the environment is an allowlist plus the run\'s own', async () => {
    const secrets = { OPENAI_KEY: canary, PGPASSWORD: canary, DATABASE_URL: `postgres://u:${canary}@db/x`, ANTHROPIC_API_KEY: canary, SOME_RANDOM_NAME: canary };
    Object.assign(process.env, secrets);
    try {
      const r = await attack('import json, os; print(json.dumps(dict(os.environ)))', { env: { SWARM_SEED: '7' } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).not.toContain(canary);
      for (const k of Object.keys(secrets)) expect(r.json).not.toHaveProperty(k);
      expect(r.json).toMatchObject({ SWARM_SEED: '7', HOME: dirs.runDir, TMPDIR: '/tmp', PYTHONNOUSERSITE: '1' });
    } finally {
      for (const k of Object.keys(secrets)) delete process.env[k];
    }
  });

  it('cannot write outside the run folder; what it writes there stays there', async () => {
    const passwd = readFileSync('/etc/passwd', 'utf8');
    const targets = { home: join(homedir(), `${marker}.w`), repo: join(REPO, `${marker}.w`), other: join(outside, 'w'), usr: `/usr/${marker}`, etc: '/etc/passwd', root: `/${marker}`, run: join(dirs.runDir, 'out.txt'), tmp: `/tmp/${marker}` };
    const r = await attack(`
import json, os
out = {}
for name, p in json.loads(${JSON.stringify(JSON.stringify(targets))}).items():
    try:
        with open(p, "a") as f:
            f.write("x")
        out[name] = "ok"
    except OSError as e:
        out[name] = type(e).__name__
print(json.dumps(out))`);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const k of ['home', 'repo', 'other', 'usr', 'etc', 'root']) expect(r.json[k], k).toMatch(/Error/);
    expect(r.json.run).toBe('ok');
    expect(r.json.tmp).toBe('ok'); // a private /tmp ...
    for (const k of ['home', 'repo', 'other', 'root', 'tmp'] as const) expect(existsSync(targets[k]), k).toBe(false); // ... gone with the run
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(passwd);
    expect(readFileSync(targets.run, 'utf8')).toBe('x');
  });

  it('cannot reach the host network, nor a Unix socket outside the view', async () => {
    const r = await attack(`
import json, socket
out = {}
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3); s.connect(("127.0.0.1", ${tcpPort})); out["tcp"] = s.recv(64).decode()
except OSError as e:
    out["tcp"] = type(e).__name__ + ":" + str(e.errno)
try:
    s = socket.socket(socket.AF_UNIX); s.connect(${JSON.stringify(socketPath)}); out["unix"] = s.recv(64).decode()
except OSError as e:
    out["unix"] = type(e).__name__
a, b = socket.socketpair(); a.send(b"hi"); out["pair"] = b.recv(2).decode()
out["ifaces"] = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
print(json.dumps(out))`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(canary);
    expect(tcpConnections).toBe(0);
    expect(r.json.tcp).toMatch(/Error/);
    if (fence.layers.seccomp === null) expect(r.json.tcp).toBe('PermissionError:1'); // socket(AF_INET) itself refused
    expect(r.json.unix).toBe('FileNotFoundError');
    expect(r.json.pair).toBe('hi'); // local Unix sockets, which PyTorch uses, still work
    expect(r.json.ifaces).toEqual(['lo']);
  });

  it('runs as uid 65534 on the host when the node is root, with no capabilities; the run folder is the run\'s', async () => {
    if (!ROOT || skipUnless('user')) return;
    const r = await attack(`
import json, os
open("mine.txt", "w").write("x")
status = dict(l.split(":\\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\\t" in l)
print(json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
                  "capEff": status["CapEff"].strip(), "capBnd": status["CapBnd"].strip(), "nnp": status["NoNewPrivs"].strip()}))`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json).toEqual({ uid: 65534, euid: 65534, gid: 65534, groups: [], capEff: '0000000000000000', capBnd: '0000000000000000', nnp: '1' });
    expect(statSync(join(dirs.runDir, 'mine.txt')).uid).toBe(65534); // nobody's on the host, not root's
  });

  it('is refused ptrace, unshare, mount, bpf, keyctl, io_uring, userfaultfd, perf events and namespace clones', async () => {
    if (skipUnless('seccomp')) return;
    const r = await attack(`
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
def sc(nr, *args):
    res = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    return "ok" if res >= 0 else os.strerror(ctypes.get_errno())
CLONE_NEWUSER, CLONE_NEWNET, SIGCHLD = 0x10000000, 0x40000000, 17
out = {
  "ptrace": sc(101, 16, 1, 0, 0),               # PTRACE_ATTACH to pid 1
  "unshare": sc(272, CLONE_NEWUSER),
  "mount": sc(165, 0, 0, 0, 0, 0),
  "bpf": sc(321, 0, 0, 0),
  "keyctl": sc(250, 0, 0, 0, 0, 0),
  "io_uring_setup": sc(425, 1, 0),
  "userfaultfd": sc(323, 0),
  "perf_event_open": sc(298, 0, 0, -1, -1, 0),
  "process_vm_readv": sc(310, 1, 0, 0, 0, 0, 0),
  "clone_newnet": sc(56, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0),
  "clone3": sc(435, 0, 0),
  "seccomp": [l for l in open("/proc/self/status") if l.startswith("Seccomp:")][0].split()[1],
}
pid = os.fork()
if pid == 0:
    os._exit(0)
out["fork"] = os.waitpid(pid, 0)[1]
print(json.dumps(out))`);
    expect(r.exitCode, r.stderr).toBe(0);
    const denied = ['ptrace', 'unshare', 'mount', 'bpf', 'keyctl', 'io_uring_setup', 'userfaultfd', 'perf_event_open', 'process_vm_readv', 'clone_newnet'];
    for (const k of denied) expect(r.json[k], k).toBe('Operation not permitted');
    expect(r.json.clone3).toBe('Function not implemented'); // so glibc falls back to clone, whose flags are checked
    expect(r.json.seccomp).toBe('2');
    expect(r.json.fork).toBe(0); // ordinary processes still work
  });

  it('kills a run that goes around the filter through the i386 syscall entry (int 0x80 socketcall)', async () => {
    if (process.arch !== 'x64' || skipUnless('seccomp')) return;
    const r = await attack(`
import ctypes, mmap
# mov eax, 102 (socketcall); mov ebx, 1 (SYS_SOCKET); xor ecx, ecx; int 0x80; ret
code = bytes.fromhex("b866000000" "bb01000000" "31c9" "cd80" "c3")
page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(code)
fn = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
print("returned", fn())`);
    expect(r.stdout).not.toContain('returned');
    expect(r.exitCode).toBe(128 + 31); // SIGSYS, passed on by bwrap
  });

  it('stops a fork bomb at the process limit and says so', async () => {
    if (skipUnless('cgroup')) return;
    const r = await attack(`
import json, os, time
n = 0
try:
    while n < 10000:
        if os.fork() == 0:
            time.sleep(60); os._exit(0)
        n += 1
except OSError as e:
    print(json.dumps({"forks": n, "error": e.strerror}))`);
    expect(r.json.forks as number).toBeLessThan(SMALL.processes);
    expect(r.json.error).toBe('Resource temporarily unavailable');
    expect(r.limitHit).toBe(`process limit of ${SMALL.processes} reached`);
  });

  it('stops a memory flood at the memory limit and names it', async () => {
    if (skipUnless('cgroup')) return;
    const r = await attack(`
chunks = []
for i in range(4096):
    chunks.append(b"x" * (1024 * 1024))  # written, so every page is really used
print("survived")`);
    expect(r.stdout).not.toContain('survived');
    expect(r.signal ?? `exit ${r.exitCode}`).toMatch(/SIGKILL|exit 137/);
    expect(r.limitHit).toBe('memory limit of 256.0 MiB reached');
  });

  it('stops a disk flood in the run folder (onLimit while live, limitHit after), and a file past the size cap', async () => {
    const flood = runFolder();
    try {
      const r = await fenced(fence, `
import errno, json, os, time
try:
    with open("big", "wb") as f:
        f.write(b"x" * (${SMALL.diskBytes} + 4096))
    big = "written"
except OSError as e:
    big = errno.errorcode[e.errno]
print(json.dumps({"big": big}), flush=True)
os.remove("big")
for i in range(1000):
    with open("f%d" % i, "wb") as f:
        f.write(b"x" * 1024 * 1024)
    time.sleep(0.02)
print("survived")`, { runDir: flood.runDir });
      expect(r.stdout).toContain('"big": "EFBIG"'); // RLIMIT_FSIZE: no single file past the limit
      expect(r.stdout).not.toContain('survived');
      expect(r.onLimit).toBe('run folder grew past 8.0 MiB');
      expect(r.limitHit).toBe('run folder grew past 8.0 MiB');
    } finally {
      flood.cleanup();
    }
  });

  it('leaves nothing running: not after close() of a live run, not after the runner kills the process group', async () => {
    const daemon = (tag: string) => `
import os, subprocess, sys, time
# a double-forked, setsid'd grandchild that tries to outlive the run
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "${tag}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
print("started", flush=True)
time.sleep(600)`;
    for (const how of ['close', 'group'] as const) {
      const tag = `${marker}-${how}`;
      const run = await fence.enter([PYTHON, '-c', daemon(tag), tag], { runDir: dirs.runDir, binds: [], env: {}, python: PYTHON, gpu: false, limits: SMALL }, () => {});
      const { execa } = await import('execa');
      const sub = execa(run.cmd[0]!, run.cmd.slice(1), { env: run.env, extendEnv: false, detached: true, cleanup: false, reject: false });
      // the run itself, the Popen'd child and the double-forked grandchild
      const pythons = () => processesWith(tag, PYTHON);
      // Forks come and go while the run starts (the intermediate child exits): wait until three stay.
      let seen = 0;
      for (let i = 0; i < 200 && seen < 3; i++) {
        await new Promise((ok) => setTimeout(ok, 50));
        seen = pythons().length >= 3 ? seen + 1 : 0;
      }
      expect(pythons().length).toBeGreaterThanOrEqual(3); // more while a fork has not yet exec'd or exited
      if (how === 'close') await run.close();
      else process.kill(-sub.pid!, 'SIGKILL');
      await sub;
      for (let i = 0; i < 100 && processesWith(tag).length > 0; i++) await new Promise((ok) => setTimeout(ok, 50));
      expect(processesWith(tag), how).toEqual([]);
      await run.close();
    }
  });

  it('shows the run folder read-only for an evaluation, and extra binds read-only', async () => {
    const data = join(outside, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'val.bin'), 'validation');
    writeFileSync(join(dirs.runDir, 'export.json'), '{}');
    const r = await attack(`
import json, os
out = {"export": open("export.json").read(), "val": open("/data/val.bin").read()}
for name, p in {"run": "new.txt", "bind": "/data/val.bin"}.items():
    try:
        open(p, "a").write("x"); out[name] = "ok"
    except OSError as e:
        out[name] = type(e).__name__
print(json.dumps(out))`, { runDirReadonly: true, binds: [{ src: data, dest: '/data' }] });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ export: '{}', val: 'validation' });
    expect(r.json.run).toMatch(/Error/);
    expect(r.json.bind).toMatch(/Error/);
    expect(existsSync(join(dirs.runDir, 'new.txt'))).toBe(false);
  });

  it('gives the run folder to the run without following a link in it to a host file, and refuses binds inside it', async () => {
    const own = runFolder();
    try {
      writeFileSync(join(own.runDir, 'train.py'), 'print(1)');
      symlinkSync(otherCanary, join(own.runDir, 'link'));
      const run = await fence.enter(['true'], { runDir: own.runDir, binds: [], env: {}, python: PYTHON, gpu: false, limits: SMALL }, () => {});
      await run.close();
      if (ROOT && fence.layers.user === null) expect(statSync(join(own.runDir, 'train.py')).uid).toBe(65534);
      expect(statSync(otherCanary).uid).toBe(process.getuid!()); // the link's target stays the node's
      await expect(fence.enter(['true'], { runDir: own.runDir, binds: [{ src: outside, dest: join(own.runDir, 'data') }], env: {}, python: PYTHON, gpu: false, limits: SMALL }, () => {}))
        .rejects.toThrow(/cannot go inside the run folder/);
    } finally {
      own.cleanup();
    }
  });

  it('keeps the GPU and /sys out of a run that does not ask for the GPU', async () => {
    const r = await attack(`
import json, os
print(json.dumps({"dev": sorted(os.listdir("/dev")), "sys": os.path.exists("/sys/bus")}))`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((r.json.dev as string[]).filter((d) => /nvidia|dri|kfd/.test(d))).toEqual([]);
    expect(r.json.sys).toBe(false);
  });

  it('runs the real workload: torch imports, trains a step on several threads, and a subprocess works', async () => {
    const r = await attack(`
import json, subprocess, sys, torch
torch.set_num_threads(2)
w = torch.randn(64, 64, requires_grad=True)
loss = (torch.randn(32, 64) @ w).pow(2).mean()
loss.backward()
child = subprocess.run([sys.executable, "-c", "print(42)"], capture_output=True, text=True).stdout.strip()
print(json.dumps({"grad": bool(w.grad.abs().sum() > 0), "threads": torch.get_num_threads(), "child": child}))`,
    { limits: { ...SMALL, memoryBytes: 2 * 1024 ** 3, processes: 256 } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json).toEqual({ grad: true, threads: 2, child: '42' });
    expect(r.limitHit).toBeNull();
  });

  it('overhead: the whole chain (cgroup, prlimit, bwrap, seccomp, uid drop) around `true`', async () => {
    const { execa } = await import('execa');
    const time = async (fencedRun: boolean) => {
      const t0 = performance.now();
      if (!fencedRun) {
        await execa('true');
        return performance.now() - t0;
      }
      const run = await fence.enter(['true'], { runDir: dirs.runDir, binds: [], env: {}, python: PYTHON, gpu: false, limits: SMALL }, () => {});
      const r = await execa(run.cmd[0]!, run.cmd.slice(1), { env: run.env, extendEnv: false, reject: false });
      await run.close();
      expect(r.exitCode, r.stderr).toBe(0);
      return performance.now() - t0;
    };
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const plain: number[] = [];
    const boxed: number[] = [];
    for (let i = 0; i < 5; i++) {
      plain.push(await time(false));
      boxed.push(await time(true));
    }
    console.log(`[fence overhead] true: plain ${med(plain).toFixed(0)} ms, fenced ${med(boxed).toFixed(0)} ms (medians, enter() to close())`);
    expect(med(boxed) - med(plain)).toBeLessThan(500);
  });

  it('describes itself in one line', () => {
    const line = fence.describe();
    expect(line).not.toContain('\n');
    if (fence.complete) expect(line).toMatch(/^fence: filesystem, network, user \d+, seccomp, cgroup v[12] \(memory [\d.]+ GiB, \d+ processes/);
    else expect(line).toMatch(/^fence incomplete: .* missing \(/);
  });
});

describe('noFence', () => {
  it('keeps the environment allowlist and the rlimits, and says every other layer is missing', async () => {
    const f = noFence('allowed by --allow-unsandboxed');
    expect(f.complete).toBe(false);
    expect(f.layers.filesystem).toBe('allowed by --allow-unsandboxed');
    expect(f.describe()).toMatch(/^fence incomplete: rlimits, filesystem missing \(allowed by --allow-unsandboxed\)/);
    const dirs = runFolder();
    process.env.PGPASSWORD = 'canary';
    try {
      const r = await fenced(f, 'import json, os, resource; print(json.dumps({"pg": os.environ.get("PGPASSWORD"), "seed": os.environ.get("SWARM_SEED"), "home": os.environ["HOME"], "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0]}))', { runDir: dirs.runDir, env: { SWARM_SEED: '3' } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.json).toEqual({ pg: null, seed: '3', home: dirs.runDir, fsize: SMALL.diskBytes + 1 });
    } finally {
      delete process.env.PGPASSWORD;
      dirs.cleanup();
    }
  });
});

describe.skipIf(!bwrapInstalled)('a fence with layers missing', () => {
  it('says which layer is missing and why, and still applies the rest', async () => {
    const noBwrap = await detectFence({ bwrap: '/nonexistent/bwrap', python: PYTHON });
    expect(noBwrap.complete).toBe(false);
    expect(noBwrap.layers.filesystem).toMatch(/bubblewrap not installed/);
    expect(noBwrap.describe()).toMatch(/^fence incomplete: .*filesystem missing \(bubblewrap not installed/);
    const dirs = runFolder();
    process.env.OPENAI_KEY = 'sk-canary';
    try {
      const r = await fenced(noBwrap, 'import json, os, resource; print(json.dumps({"key": os.environ.get("OPENAI_KEY"), "cwd": os.getcwd(), "core": resource.getrlimit(resource.RLIMIT_CORE)[0]}))', { runDir: dirs.runDir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.json).toEqual({ key: null, cwd: dirs.runDir, core: 0 });
    } finally {
      delete process.env.OPENAI_KEY;
      dirs.cleanup();
    }
  });

  it('names the one layer whose absence makes the chain work (here: a bwrap that refuses seccomp filters)', async () => {
    const dirs = runFolder();
    try {
      const picky = join(dirs.root, 'bwrap');
      writeFileSync(picky, '#!/bin/sh\ncase " $* " in *" --seccomp "*) echo "bwrap: seccomp filters not supported" >&2; exit 1;; esac\nexec bwrap "$@"\n', { mode: 0o755 });
      const f = await detectFence({ bwrap: picky, python: PYTHON });
      expect(f.layers.seccomp).toBe('bwrap refused the filter: bwrap: seccomp filters not supported');
      expect(f.layers.filesystem).toBeNull();
      expect(f.layers.network).toBeNull();
      expect(f.layers.user).toBeNull();
      const r = await fenced(f, 'import json, os; print(json.dumps({"uid": os.getuid()}))', { runDir: dirs.runDir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.json.uid).toBe(ROOT ? 65534 : process.getuid!());
    } finally {
      dirs.cleanup();
    }
  });

  it('reports seccomp missing when pyseccomp cannot be imported, with the reason', async () => {
    const dirs = runFolder();
    try {
      // the repo's interpreter without its site-packages: a Python without pyseccomp
      const bare = join(dirs.root, 'python');
      writeFileSync(bare, `#!/bin/sh\nexec ${PYTHON} -S "$@"\n`, { mode: 0o755 });
      const f = await detectFence({ python: bare });
      expect(f.layers.seccomp).toMatch(/pyseccomp not installed/);
      expect(f.describe()).toMatch(/seccomp missing \(pyseccomp not installed/);
      expect(f.layers.filesystem).toBeNull();
    } finally {
      dirs.cleanup();
    }
  });
});
