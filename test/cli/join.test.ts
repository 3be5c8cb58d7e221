import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { cli, STUB_ENV, waitFor } from '../helpers/cli.js';
import { REPO, TRAINER } from '../helpers/paths.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function stateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'swarm-cli-'));
  dirs.push(d);
  return d;
}

// A fixed mutator seed (the default is drawn from each node's random peer id): the counts below depend on which changes are drawn.
const swarm = cli({ SWARM_NOISE_RUNS: '0', SWARM_STUB_SLEEP: '1.5', SWARM_SEED: '1' });

async function records(state: string): Promise<ExperimentRecord[]> {
  const { stdout } = await swarm(['log', '--json', '--state', state]);
  return JSON.parse(stdout) as ExperimentRecord[];
}

describe('swarm join', () => {
  it('killed with -9 mid-experiment, loses nothing finished and resumes the interrupted run', async () => {
    const state = await stateDir();
    // A long run, so the kill lands inside #2 even on a loaded machine.
    const first = swarm(['join', '--state', state, '--max-experiments', '5', '--budget', '1'], { SWARM_STUB_SLEEP: '6' });
    await waitFor(first, /#2 /);

    // While it runs, read commands ask the node over its control socket.
    const status = await swarm(['status', '--json', '--state', state]);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, best: { seq: 1 }, live: { current: { seq: 2, budget: '1 s' }, workers: [{ worker: 0, current: { seq: 2 } }] } });
    // the stub reports progress only at the end of its sleep: until then the run is shown as starting
    expect((await swarm(['status', '--state', state])).stdout).toMatch(/now: +#2 .* \| (starting, \d+ s|\d+ s of a 1 s budget)/);

    first.kill('SIGKILL');
    await first;
    const killed = await records(state);
    expect(killed[0]).toMatchObject({ seq: 1, status: 'keep' });
    expect(killed[1]).toMatchObject({ seq: 2, status: 'running', attempts: 1 });

    const second = await swarm(['join', '--state', state, '--max-experiments', '3', '--budget', '1']);
    expect(second.exitCode, second.all).toBe(0);
    expect(second.all).toMatch(/#2 was interrupted; running it again/);
    const after = await records(state);
    expect(after.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(after[0]).toEqual(killed[0]);
    expect(after[1]).toMatchObject({ id: killed[1]!.id, attempts: 2 });
    expect(after.every((r) => r.status !== 'running')).toBe(true);

    // The store's last keep and the workspace's best branch agree.
    const lastKeep = after.filter((r) => r.status === 'keep').at(-1)!;
    const best = await execa('git', ['--git-dir', join(state, 'db', '..', 'workspace.git'), 'rev-parse', 'refs/heads/best']);
    expect(best.stdout).toBe(lastKeep.commit);

    const tsv = await swarm(['export', '--tsv', '--state', state]);
    expect(tsv.stdout.split('\n')).toHaveLength(5);
  });

  it('stops cleanly on Ctrl-C and resumes the run it stopped without counting it as an attempt', async () => {
    const state = await stateDir();
    const first = swarm(['join', '--state', state, '--budget', '1']);
    await waitFor(first, /#2 /);
    first.kill('SIGINT');
    const done = await first;
    expect(done.exitCode, done.all).toBe(0);
    expect(done.all).toMatch(/stopping/);
    const stopped = await records(state);
    expect(stopped.at(-1)).toMatchObject({ seq: 2, status: 'running', attempts: 0 });

    await swarm(['join', '--state', state, '--max-experiments', '1', '--budget', '1']);
    const after = await records(state);
    expect(after[1]).toMatchObject({ seq: 2, attempts: 1 });
    expect(['keep', 'discard']).toContain(after[1]!.status);
  });

  it('explains a broken config file and exits without touching state', async () => {
    const state = await stateDir();
    const config = join(state, 'broken.json');
    await writeFile(config, '{ "budget": ');
    const r = await swarm(['join', '--config', config]);
    expect(r.exitCode).toBe(1);
    expect(r.all).toContain(`the config file ${config} is not valid JSON`);
  });

  it('shows one experiment with its diff and metrics', async () => {
    const state = await stateDir();
    const r = await swarm(['join', '--state', state, '--max-experiments', '2', '--budget', '1'], { SWARM_STUB_SLEEP: '0' });
    expect(r.exitCode, r.all).toBe(0);
    const show = await swarm(['show', '2', '--state', state]);
    expect(show.stdout).toMatch(/experiment #2/);
    expect(show.stdout).toMatch(/^[-+][A-Z_]+ = /m);
    expect(show.stdout).toMatch(/val_bpb:\s+1\.\d+/);
    const missing = await swarm(['show', '99', '--state', state]);
    expect(missing.exitCode).toBe(1);
    expect(missing.all).toMatch(/no experiment matches "99"/);

    // Under a tokens budget the record says so, not the seconds value that does not bind.
    const tokens = await stateDir();
    const t = await swarm(['join', '--state', tokens, '--max-experiments', '1', '--budget-mode', 'tokens', '--budget-tokens', '1000', '--noise-runs', '0'], { SWARM_STUB_SLEEP: '0' });
    expect(t.exitCode, t.all).toBe(0);
    expect(t.all).toMatch(/1k tokens/);
    expect((await swarm(['show', '1', '--state', tokens])).stdout).toMatch(/budget 1000 tokens/);
  });
});

describe('a node killed with -9', () => {
  it('leaves no training run behind: the orphaned trainer exits on its own', async () => {
    const state = await stateDir();
    const proc = swarm(['join', '--state', state, '--budget', '30'], { SWARM_TRAINER: TRAINER });
    await waitFor(proc, /#1 baseline/);
    // Long enough for the real trainer to import torch and prepare.py, which arms the watchdog.
    await new Promise((r) => setTimeout(r, 8000));
    const children = (await execa('pgrep', ['-P', String(proc.pid)], { reject: false })).stdout.split('\n').filter(Boolean);
    expect(children.length).toBeGreaterThan(0);
    proc.kill('SIGKILL');
    await proc;
    await new Promise((r) => setTimeout(r, 3000));
    for (const pid of children) expect(() => process.kill(Number(pid), 0)).toThrow();
  });
});

describe('swarm join with peers', () => {
  it('prints the address to join; two CLI nodes see each other and the shared leaderboard', async () => {
    const [sa, sb] = [await stateDir(), await stateDir()];
    const a = swarm(['join', '--state', sa, '--budget', '1'], { SWARM_STUB_SLEEP: '0' });
    let out = '';
    a.all?.on('data', (c: Buffer) => { out += c.toString(); });
    await waitFor(a, /others join with \(in a swarm checkout\): npx swarm join --bootstrap \S+/);
    const printed = /others join with \(in a swarm checkout\): (npx swarm join --bootstrap (\S+))/.exec(out)!;
    const address = printed[2]!;
    expect(address).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/);

    // The hint works as printed, from the checkout: npx runs this package's own CLI.
    const b = await execa('bash', ['-c', `${printed[1]} --state ${sb} --budget 1 --max-experiments 3`], {
      cwd: REPO, env: { ...STUB_ENV, SWARM_NOISE_RUNS: '0', SWARM_STUB_SLEEP: '0' }, reject: false, all: true,
    });
    expect(b.exitCode, b.all).toBe(0);
    // A is still running: its status names its peer and B's results reached it through the socket-backed commands.
    const status = JSON.parse((await swarm(['status', '--json', '--state', sa])).stdout) as { live: { swarm: { peerId: string } } };
    expect(status.live.swarm.peerId).toBe(address.split('/p2p/')[1]);
    a.kill('SIGINT');
    expect((await a).exitCode).toBe(0);

    for (const state of [sa, sb]) {
      const peers = JSON.parse((await swarm(['peers', '--json', '--state', state])).stdout) as { peer: string; experiments: number }[];
      expect(peers.map((p) => p.experiments >= 1)).toEqual([true, true]);
      const board = JSON.parse((await swarm(['leaderboard', '--json', '--state', state])).stdout) as { hardware: string; val_bpb: number }[];
      expect(board).toHaveLength(1);
      expect(board[0]!.hardware).toBe('stub cpu');
    }
  });
});

describe('swarm key', () => {
  it('generates a private-swarm key once, and join names a bad key file', async () => {
    const dir = await stateDir();
    const key = join(dir, 'swarm.key');
    const made = await swarm(['key', 'generate', '--out', key]);
    expect(made.exitCode, made.all).toBe(0);
    const { readFile, stat } = await import('node:fs/promises');
    expect((await readFile(key, 'utf8'))).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    const again = await swarm(['key', 'generate', '--out', key]);
    expect(again.exitCode).toBe(1);
    expect(again.all).toMatch(/never overwritten/);

    const bad = join(dir, 'bad.key');
    await writeFile(bad, 'not a key\n');
    const r = await swarm(['join', '--state', join(dir, 'state'), '--swarm-key', bad]);
    expect(r.exitCode).toBe(1);
    expect(r.all).toContain(bad);
    expect(r.all).toMatch(/not a swarm key/);
  });
});
