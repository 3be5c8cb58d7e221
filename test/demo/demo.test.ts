import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import type { SignedRecord } from '../../src/p2p/index.js';
import { readSnapshot } from '../../src/cli/records.js';
import { cli, waitFor } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

// The stub trainer (fast), slowed a little so the nodes' runs overlap and gossip has time to travel.
// SWARM_DASHBOARD unset (the helpers turn dashboards off): the demo gives each node its own.
const swarm = cli({ SWARM_STUB_SLEEP: '0.4', SWARM_DASHBOARD: '' });
/** The second run needs no dashboards (flags after -- reach every node, and override the demo's). */
const NO_DASHBOARD = ['--', '--dashboard', 'off'];

interface Meta { nodes: { name: string; peerId: string | null }[] }

/** Processes whose command line names `dir`: the demo's nodes and their training runs. */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(dir)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function nodeStores(dir: string, meta: Meta) {
  return Promise.all(meta.nodes.map(async (n) => {
    const { records, shared, live } = await readSnapshot(join(dir, n.name));
    return { ...n, records, shared: shared as SignedRecord[], live };
  }));
}

const ran = (r: ExperimentRecord) => ['keep', 'discard', 'crash'].includes(r.status);

describe('swarm demo', () => {
  it('runs three real nodes that share, skip, rebase and replicate; Ctrl-C stops every one; a second run resumes', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'swarm-demo-')), 'demo');
    dirs.push(join(dir, '..'));

    const first = swarm(['demo', '--dir', dir]);
    let printed = '';
    first.all?.on('data', (chunk: Buffer) => void (printed += chunk.toString()));
    const dashboards = () => [...printed.matchAll(/demo +│ node-\d dashboard: (http:\/\/127\.0\.0\.1:\d+\S*)/g)].map((m) => m[1]!);
    await waitFor(first, /node-3 is up at \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
    // Each node serves its own dashboard (8470, 8471, 8472, or free ports where those are taken).
    for (let i = 0; i < 100 && dashboards().length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    const urls = dashboards();
    expect(new Set(urls).size, printed).toBe(3);
    for (const url of urls) expect((await fetch(url)).status, url).toBe(200);
    // A second demo on the same folder while this one runs is refused.
    const twice = await swarm(['demo', '--dir', dir]);
    expect(twice.exitCode).toBe(1);
    expect(twice.all).toMatch(/the demo in .* is still running \(node-1 is pid \d+\)/);

    await waitFor(first, /the swarm has shared, skipped, rebased and replicated/);
    first.kill('SIGINT');
    const done = await first;
    expect(done.exitCode, done.all).toBe(0);
    // Every node logged its own clean stop, then the demo its summary.
    for (const n of ['node-1', 'node-2', 'node-3']) expect(done.all).toMatch(new RegExp(`${n} +│ .*stopped after \\d+ experiment`));
    expect(done.all).toMatch(/demo +│ +node-3: \d+ experiments/);
    expect(processesIn(dir)).toEqual([]);

    const meta = JSON.parse(await readFile(join(dir, 'demo.json'), 'utf8')) as Meta;
    expect(meta.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    const peers = meta.nodes.map((n) => n.peerId!);
    expect(new Set(peers).size).toBe(3);
    const nodes = await nodeStores(dir, meta);

    for (const node of nodes) {
      // Shared: each node holds results signed by both other nodes.
      const authors = new Set(node.shared.filter((r) => r.type === 'result').map((r) => r.peer));
      expect([...authors].sort(), node.name).toEqual([...peers].sort());
    }
    // Each node proposes its own changes (the mutator's seed is derived from the peer id).
    const firstIdeas = nodes.map((n) => n.records.find((r) => r.origin.kind === 'proposer')?.hypothesis);
    expect(new Set(firstIdeas).size, firstIdeas.join(' | ')).toBeGreaterThan(1);
    const all = nodes.flatMap((n) => n.records.map((r) => ({ node: n, r })));
    // Skipped: a candidate a peer had tried or was running, named in the reason.
    const skip = all.find(({ r }) => r.status === 'skip' && / peer /.test(r.reason ?? ''));
    expect(skip, 'a skipped duplicate').toBeDefined();
    expect(skip!.r.reason).toMatch(/peer/);
    // Rebased: a peer's kept change run here on this node's best, and the peer did keep it.
    const rebase = all.find(({ r }) => r.origin.kind === 'peer' && ran(r));
    expect(rebase, "a peer's change rebased and run").toBeDefined();
    // Its parent is this node's best when it was staged: the last keep before it ended (a best taken as a
    // peer measured it is recorded when taken, which may be after the rebase's start was stamped).
    const keepsBefore = rebase!.node.records.filter((r) => r.status === 'keep' && r !== rebase!.r && r.endedAt! <= rebase!.r.endedAt!);
    expect(rebase!.r.parentHash).toBe(keepsBefore.at(-1)!.hash);
    const source = rebase!.node.shared.find((r) => r.type === 'result' && r.status === 'keep' && rebase!.r.lineage!.includes(r.experiment) && r.peer !== rebase!.node.peerId);
    expect(source, 'the kept result it came from').toBeDefined();
    // Replicated: a node re-ran another's would-be best and signed what it measured.
    const verify = nodes.flatMap((n) => n.shared.filter((r) => r.type === 'verify' && r.peer === n.peerId));
    expect(verify.length, 'a replication').toBeGreaterThan(0);
    expect(verify[0]).toMatchObject({ verdict: 'confirm' });

    // A second run resumes the same nodes: same identities, records kept, numbering carries on.
    const before = new Map(nodes.map((n) => [n.name, n.records.length]));
    const second = swarm(['demo', '--dir', dir, ...NO_DASHBOARD]);
    await waitFor(second, /resuming the demo of/);
    await waitFor(second, /node-3 +│ .*#\d+ /);
    second.kill('SIGINT');
    const again = await second;
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).not.toMatch(/dashboard: http/);
    expect(processesIn(dir)).toEqual([]);
    const resumed = await nodeStores(dir, JSON.parse(await readFile(join(dir, 'demo.json'), 'utf8')) as Meta);
    expect(resumed.map((n) => n.peerId)).toEqual(peers);
    for (const n of resumed) {
      expect(n.records.length, n.name).toBeGreaterThanOrEqual(before.get(n.name)!);
      expect(n.records.map((r) => r.seq)).toEqual(n.records.map((_, i) => i + 1));
      expect(n.records.filter((r) => r.origin.kind === 'baseline')).toHaveLength(1);
    }
  });

  it('refuses a folder that holds something other than a demo, and a node that dies stops the demo', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarm-demo-'));
    dirs.push(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const refused = await swarm(['demo', '--dir', dir]);
    expect(refused.exitCode).toBe(1);
    expect(refused.all).toMatch(/is not empty and holds no earlier demo/);

    // A flag every node rejects: the first dies at once, the demo says so in one line and exits 1.
    const bad = await swarm(['demo', '--dir', join(dir, 'demo'), '--', '--budget-tokens', 'lots']);
    expect(bad.exitCode).toBe(1);
    expect(bad.all).toMatch(/demo +│ node-1 stopped early \(exit code 1; its last lines are above\); stopping the others/);
    expect(processesIn(join(dir, 'demo'))).toEqual([]);
  });
});
