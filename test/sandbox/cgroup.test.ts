import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectCgroup } from '../../src/sandbox/cgroup.js';

/**
 * The cgroup files of a box this test does not run on (a delegated cgroup v2, or v1 without v2
 * controllers), as a fake tree: the kernel's files are plain files here, so this checks which
 * files are read and written with what, not the kernel's enforcement (fence.test.ts does that on
 * the real cgroup of this box).
 */
let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

function fakeTree(mountinfo: string[], cgroup: string[], files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), 'swarm-cgroup-fake-'));
  mkdirSync(join(root, 'proc'));
  writeFileSync(join(root, 'proc', 'mountinfo'), mountinfo.map((l) => l.replaceAll('ROOT', root)).join('\n') + '\n');
  writeFileSync(join(root, 'proc', 'cgroup'), cgroup.join('\n') + '\n');
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), content);
  }
  return join(root, 'proc');
}

const limits = { memoryBytes: 256 * 1024 ** 2, processes: 32, cpus: 1.5, diskBytes: 0 };

describe('cgroup v2 with the controllers delegated', () => {
  it('enables them for the node\'s children, writes the limits, and reads oom_kill and pids max', async () => {
    const proc = fakeTree(
      ['30 25 0:26 / ROOT/cg rw,nosuid shared:4 - cgroup2 cgroup2 rw'],
      ['0::/node.service'],
      { 'cg/node.service/cgroup.controllers': 'cpuset cpu io memory pids\n', 'cg/node.service/cgroup.subtree_control': '\n', 'cg/node.service/cgroup.procs': '' },
    );
    const { host, reason } = await detectCgroup(proc);
    expect(reason).toBeNull();
    expect(host?.kind).toBe('cgroup v2');
    const base = join(root, 'cg', 'node.service');
    expect(readFileSync(join(base, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +pids +cpu');
    const run = host!.create(limits);
    const dir = dirname(run.procsFiles[0]!);
    expect(dirname(dir)).toBe(base);
    expect(readFileSync(join(dir, 'memory.max'), 'utf8')).toBe(String(256 * 1024 ** 2));
    expect(readFileSync(join(dir, 'pids.max'), 'utf8')).toBe('32');
    expect(readFileSync(join(dir, 'cpu.max'), 'utf8')).toBe('150000 100000');
    expect(run.hit()).toBeNull();
    writeFileSync(join(dir, 'pids.events'), 'max 3\n');
    expect(run.hit()).toBe('process limit of 32 reached');
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n');
    expect(run.hit()).toBe('memory limit of 256.0 MiB reached');
    expect(run.peakBytes()).toBeNull(); // a kernel before 5.19 keeps no memory.peak
    writeFileSync(join(dir, 'memory.peak'), '314572800\n');
    expect(run.peakBytes()).toBe(314572800);
    await run.close();
    expect(readFileSync(join(dir, 'cgroup.kill'), 'utf8')).toBe('1');
  });

  it('is missing, with the reason, when memory and pids are not delegated', async () => {
    const proc = fakeTree(['30 25 0:26 / ROOT/cg rw - cgroup2 cgroup2 rw'], ['0::/user.slice'], { 'cg/user.slice/cgroup.controllers': 'cpu io\n' });
    const { host, reason } = await detectCgroup(proc);
    expect(host).toBeNull();
    expect(reason).toMatch(/^no writable cgroup \(v2: memory and pids not delegated to .*user\.slice; v1: /);
  });
});

describe('cgroup v1 (memory and pids hierarchies)', () => {
  it('makes one cgroup per controller under the node\'s own, and reads oom_kill from memory.oom_control', async () => {
    const proc = fakeTree(
      ['40 30 0:40 / ROOT/memory rw - cgroup cgroup rw,memory', '41 30 0:41 / ROOT/pids rw - cgroup cgroup rw,pids', '42 30 0:42 / ROOT/cpu rw - cgroup cgroup rw,cpu,cpuacct'],
      ['9:pids:/', '4:memory:/box/abc', '2:cpu,cpuacct:/', '0::/'],
      { 'memory/box/abc/memory.limit_in_bytes': '9223372036854771712', 'pids/pids.events': '', 'cpu/cpu.cfs_quota_us': '-1' },
    );
    const { host, reason } = await detectCgroup(proc);
    expect(reason).toBeNull();
    expect(host?.kind).toBe('cgroup v1');
    const run = host!.create(limits);
    const [mem, pids, cpu] = run.procsFiles.map((f) => dirname(f));
    expect([mem, pids, cpu].map((d) => dirname(d!))).toEqual([join(root, 'memory', 'box', 'abc'), join(root, 'pids'), join(root, 'cpu')]);
    expect(readFileSync(join(mem!, 'memory.limit_in_bytes'), 'utf8')).toBe(String(256 * 1024 ** 2));
    expect(readFileSync(join(pids!, 'pids.max'), 'utf8')).toBe('32');
    expect(readFileSync(join(cpu!, 'cpu.cfs_quota_us'), 'utf8')).toBe('150000');
    writeFileSync(join(mem!, 'memory.max_usage_in_bytes'), '209715200\n');
    expect(run.peakBytes()).toBe(209715200);
    writeFileSync(join(mem!, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    expect(run.hit()).toBe('memory limit of 256.0 MiB reached');
    await run.close();
  });
});
