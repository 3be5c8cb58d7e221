import { describe, expect, it } from 'vitest';
import { allowedEnv, formatBytes } from '../../src/sandbox/index.js';
import { runEnv } from '../../src/sandbox/env.js';
import { prlimitArgs } from '../../src/sandbox/limits.js';
import { interpreterBinds, viewArgs, type ViewInput } from '../../src/sandbox/view.js';

const base: ViewInput = {
  system: [{ path: '/usr', link: null }, { path: '/bin', link: 'usr/bin' }, { path: '/lib', link: 'usr/lib' }],
  etc: ['/etc/ld.so.cache'],
  passwd: '/tmp/f/passwd',
  group: '/tmp/f/group',
  readonly: [{ src: '/opt/py', dest: '/opt/py' }, { src: '/srv/data', dest: '/data' }],
  runDir: { src: '/srv/state/runs/r1', dest: '/srv/state/runs/r1', readonly: false },
  devices: [],
  sys: false,
  tmpBytes: 1024,
};

describe('viewArgs (pure)', () => {
  it('builds an allowlist on an empty root: never the host root, HOME or /sys', () => {
    const seq = viewArgs(base).join(' ');
    expect(seq).not.toMatch(/--(ro-)?bind \/ \//);
    expect(seq).not.toContain('/sys');
    expect(seq).not.toContain('/home');
    expect(seq).toContain('--ro-bind /usr /usr');
    expect(seq).toContain('--symlink usr/bin /bin'); // merged /usr stays a link, not a second bind
    expect(seq).toContain('--ro-bind /etc/ld.so.cache /etc/ld.so.cache');
    expect(seq).toContain('--ro-bind /tmp/f/passwd /etc/passwd');
    expect(seq).toContain('--ro-bind /srv/data /data');
    expect(seq).toContain('--bind /srv/state/runs/r1 /srv/state/runs/r1');
    expect(seq).toContain('--perms 1777 --size 1024 --tmpfs /tmp');
    expect(seq).toContain('--tmpfs /run');
    expect(seq).not.toContain('--dev-bind');
    expect(seq.endsWith('--remount-ro /')).toBe(true);
  });

  it('makes the parents of a bind 0755 before it, and binds parents before children', () => {
    const seq = viewArgs({ ...base, readonly: [{ src: '/a/b/c', dest: '/a/b/c' }, { src: '/a', dest: '/a' }] }).join(' ');
    expect(seq.indexOf('--ro-bind /a /a')).toBeLessThan(seq.indexOf('--ro-bind /a/b/c /a/b/c'));
    expect(seq).toContain('--perms 0755 --dir /srv --perms 0755 --dir /srv/state --perms 0755 --dir /srv/state/runs --bind /srv/state/runs/r1');
  });

  it('shows the run folder read-only for an evaluation', () => {
    const seq = viewArgs({ ...base, runDir: { ...base.runDir, readonly: true } }).join(' ');
    expect(seq).toContain('--ro-bind /srv/state/runs/r1 /srv/state/runs/r1');
    expect(seq).not.toContain('--bind /srv/state/runs/r1');
  });

  it('binds GPU device nodes and /sys only when given devices', () => {
    const seq = viewArgs({ ...base, devices: ['/dev/nvidia0', '/dev/nvidiactl'], sys: true }).join(' ');
    expect(seq).toContain('--dev-bind /dev/nvidia0 /dev/nvidia0');
    expect(seq).toContain('--ro-bind /sys /sys');
  });
});

describe('interpreterBinds', () => {
  it('leaves out paths a system folder or an earlier bind already shows', () => {
    const binds = interpreterBinds(['/usr/lib/python3.11', '/nonexistent/prefix', '/nonexistent/prefix/lib/site-packages'], [{ path: '/usr', link: null }]);
    expect(binds).toEqual([{ src: '/nonexistent/prefix', dest: '/nonexistent/prefix' }]);
  });
});

describe('the environment allowlist', () => {
  it('keeps locale, PATH and the CUDA/BLAS knobs, and nothing else of the node', () => {
    const env = allowedEnv({
      PATH: '/usr/bin', LANG: 'C.UTF-8', LC_ALL: 'C', CUDA_VISIBLE_DEVICES: '1', OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2',
      OPENAI_KEY: 'x', PGPASSWORD: 'x', DATABASE_URL: 'x', AWS_SECRET_ACCESS_KEY: 'x', SSH_AUTH_SOCK: 'x', HOME: '/root', PYTHONPATH: '/evil',
    });
    expect(env).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8', LC_ALL: 'C', CUDA_VISIBLE_DEVICES: '1', OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2' });
  });

  it('adds the run\'s own variables, and fixes HOME, TMPDIR and no user site folder', () => {
    expect(runEnv('/run/r1', '/tmp', { SWARM_SEED: '1', HOME: '/root' }, {})).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin', SWARM_SEED: '1', HOME: '/run/r1', TMPDIR: '/tmp', PYTHONNOUSERSITE: '1',
    });
  });
});

describe('limits in words and rlimits', () => {
  it('formats sizes the way limit messages say them', () => {
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatBytes(8 * 1024 ** 2)).toBe('8.0 MiB');
    expect(formatBytes(512)).toBe('512 bytes');
  });

  it('caps file size and core dumps always; processes and address space without a cgroup (never with CUDA)', () => {
    const l = { memoryBytes: 1000, processes: 64, cpus: 1, diskBytes: 4096 };
    expect(prlimitArgs('/usr/bin/prlimit', l, false, false)).toEqual(['/usr/bin/prlimit', '--fsize=4097', '--core=0', '--']);
    expect(prlimitArgs('/usr/bin/prlimit', l, true, false)).toEqual(['/usr/bin/prlimit', '--fsize=4097', '--core=0', '--nproc=64', '--as=1000', '--']);
    expect(prlimitArgs('/usr/bin/prlimit', l, true, true)).not.toContain('--as=1000');
  });
});
