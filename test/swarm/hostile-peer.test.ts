/**
 * End to end: a hostile peer (a real libp2p node of the swarm, signing with its own key) against two
 * honest nodes on their default settings. It publishes
 *   (a) records whose ids walk out of the run folder (`../`), served through sync;
 *   (b) a kept result that claims a val_bpb its code does not give (the honest replicas re-run it);
 *   (c) a kept patch that prints what it can read on a FAIL line, to have the honest node sign and
 *       gossip its secret as the crash reason.
 * The honest nodes keep working, store nothing harmful, dispute (b) and never show it verified, and
 * nothing the attacker receives carries their secret.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../src/agent/diff.js';
import { sourceHash } from '../../src/core/index.js';
import { newId } from '../../src/loop/ids.js';
import { isReasonCode, loadOrCreateIdentity, signRecord, type DraftRecord, type ResultBody, type SignedResult } from '../../src/p2p/index.js';
import type { Trainer } from '../../src/runner/index.js';
import { fingerprint, leaderboard } from '../../src/swarm/index.js';
import { STUB_TRAINER } from '../helpers/paths.js';
import { PROGRAM, scripted, setConst, swarmNode, until, type SwarmNode } from '../helpers/swarm.js';
import { MemorySource, cleanupDirs, startNode, tempDir, type TestNode } from '../p2p/helpers.js';

afterAll(cleanupDirs);

const CANARY = 'CANARY-7f3e9b21-do-not-share';

/** A box whose run folder holds a secret the run can read, as if a fence had missed one. */
const leaky = (real: Trainer): Trainer => ({
  hardware: () => real.hardware(),
  async run(req) {
    await mkdir(req.runDir, { recursive: true });
    await writeFile(join(req.runDir, 'secret.txt'), CANARY);
    return real.run(req);
  },
});

const HW = (name: string) => ({ device: 'cpu' as const, name, count: 1, memoryGb: 1, torch: 'none', cuda: null, python: '3.12.3' });

/** A kept result of the attacker for `candidate` on the baseline, its texts served by hash. */
function keptResult(attacker: TestNode, baseline: string, candidate: string, claimed: number, hardware: string, hypothesis: string): ResultBody {
  const diff = `--- a/train.py\n+++ b/train.py\n${unifiedDiff(baseline, candidate)}`;
  for (const text of [baseline, candidate, diff]) attacker.source.addObject(new TextEncoder().encode(text));
  const parentHash = sourceHash(baseline);
  return {
    type: 'result', experiment: newId(), parentHash, hash: sourceHash(candidate), diffHash: sourceHash(diff), diff,
    fingerprint: fingerprint(parentHash, diff), status: 'keep', hypothesis, proposer: 'mutate', outcome: 'ok', reason: null,
    metrics: { val_bpb: claimed, training_seconds: 0.1, total_seconds: 0.2, peak_vram_mb: 0, mfu_percent: 0, total_tokens_M: 0, num_steps: 1, num_params_M: 0.1, depth: 4 },
    hardware: HW(hardware), dataset: 'sotu', budgetSeconds: 1, startedAt: new Date().toISOString(), endedAt: new Date().toISOString(), lineage: [],
  };
}

/** (a): records whose ids lead out of a run folder, signed by the attacker and waiting in its sync source. */
async function traversalRecords(dir: string, source: MemorySource, baseline: string): Promise<void> {
  const key = await loadOrCreateIdentity(join(dir, 'identity.key'));
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
  const peer = peerIdFromPrivateKey(key).toString();
  const evil = baseline.replace('DEPTH = 4', 'DEPTH = 5');
  const bodies = [
    { ...keptResult({ source } as TestNode, baseline, evil, 0.1, 'stub cpu', 'walk out'), experiment: '../../ws.git/hooks/reference-transaction' },
    { ...keptResult({ source } as TestNode, baseline, evil, 0.1, 'stub cpu', 'walk out'), lineage: ['../../../pwned'] },
    { type: 'best', hash: sourceHash(evil), val_bpb: 0.1, experiment: '../runs/../../pwned', hardware: 'stub cpu', lineage: [] },
  ];
  let seq = 1000;
  for (const body of bodies) {
    const draft = { ...body, v: 1, program: PROGRAM, peer, seq: seq++, time: new Date().toISOString() } as DraftRecord;
    source.add(await signRecord(draft, key));
  }
}

/** Every path under `dir` (links not followed); what other tests remove meanwhile is skipped. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir).catch(gone)) {
    const p = join(dir, name);
    const st = await lstat(p).catch(() => null);
    if (!st) continue;
    out.push(p);
    if (st.isDirectory()) out.push(...await walk(p));
  }
  return out;
}

function gone(err: NodeJS.ErrnoException): string[] {
  if (err.code === 'ENOENT') return [];
  throw err;
}

async function expectNothingHarmful(n: SwarmNode, root: string): Promise<void> {
  const paths = await walk(n.state);
  for (const p of paths) expect((await lstat(p)).isSymbolicLink(), p).toBe(false);
  expect(paths.filter((p) => /\/hooks(\/|$)/.test(p)), 'git hooks').toEqual([]);
  const runs = await readdir(join(n.state, 'runs'));
  for (const r of runs) expect(r).toMatch(/^(\d{5}-[0-9a-z]{9,12}-[0-9a-f]{8}|verify-[0-9a-f]{16}|noise-\d{3}-seed\d+)$/);
  expect(existsSync(join(root, 'pwned'))).toBe(false);
  expect(await walk(root).then((all) => all.filter((p) => p.includes('pwned')))).toEqual([]);
}

describe('a hostile peer', () => {
  it('cannot plant files, fake a verified result, or get an honest node\'s secret', async () => {
    const baseline = await readFile(join(STUB_TRAINER, 'train.py'), 'utf8');
    const dir = tempDir();
    const source = new MemorySource();
    await traversalRecords(dir, source, baseline);
    const attacker = await startNode({ dir, source, program: PROGRAM });

    const trust = { replicas: 2 };
    // The honest nodes know the attacker as a bootstrap peer, as they would any peer.
    const viaAttacker = { net: attacker.net } as SwarmNode;
    const a = await swarmNode({ name: 'a', bootstrap: [viaAttacker], trainer: leaky, trust });
    const b = await swarmNode({ name: 'b', bootstrap: [viaAttacker, a], trainer: leaky, trust });
    await until('the attacker connected to both', () => attacker.net.peers().filter((p) => p.connected).length === 2, 20_000);
    // (a) arrived by sync and was dropped as schema violations, never stored.
    await until('the traversal records to be dropped', () => [a, b].every((n) => n.net.stats().dropped.schema >= 3));

    // (b) The attacker's DEPTH = 2 really gives about 1.04; it claims 0.5.
    const fake = keptResult(attacker, baseline, setConst('DEPTH', '2')(baseline), 0.5, 'stub cpu', 'shallower');
    await attacker.net.publish(fake);
    await until('the fake result to reach A and B', async () => (await Promise.all([a, b].map((n) => n.shared()))).every((rs) => rs.some((r) => r.type === 'result' && r.experiment === fake.experiment)));
    const idea = (c: string, v: string) => scripted([{ hypothesis: `${c} ${v}`, edit: setConst(c, v) }]);
    // Baseline, the replication of the fake, then a win of their own (the fake patch is refused: disputed).
    await Promise.all([a.run(3, idea('MATRIX_LR', '0.04')), b.run(3, idea('EMBEDDING_LR', '0.6'))]);

    // (c) Its first key is disputed now, so it comes back under a fresh one with a patch of another
    // hardware class (not replicated): rebased and run as the honest nodes' own experiment.
    const second = await startNode({ program: PROGRAM, bootstrap: [a.net.addresses()[0]!, b.net.addresses()[0]!] });
    await until('the second key connected to both', () => second.net.peers().filter((p) => p.connected).length >= 2);
    const exfil = baseline.replace('summary(val_bpb', 'print("FAIL: " + open("secret.txt").read(), flush=True)\nraise SystemExit(1)\nsummary(val_bpb');
    const leak = keptResult(second, baseline, exfil, 0.9, 'other gpu', 'print the secret');
    await second.net.publish(leak);
    await until('the exfiltrating patch to reach A and B', async () => (await Promise.all([a, b].map((n) => n.shared()))).every((rs) => rs.some((r) => r.type === 'result' && r.experiment === leak.experiment)));
    // Each works through its queue (the other's win first) until it has run the patch.
    const ranLeak = async (n: SwarmNode) => (await n.store.list()).some((r) => r.lineage?.includes(leak.experiment));
    await Promise.all([a, b].map(async (n) => {
      for (let i = 0; i < 6 && !(await ranLeak(n)); i++) await n.run(1, scripted([]));
    }));

    // One of them runs it (the other then skips it, already tried by that peer); it printed the secret:
    // the local record keeps it, the shared one says `crash` and nothing else.
    const runs = (await Promise.all([a, b].map(async (n) => ({ n, ran: (await n.store.list()).find((r) => r.lineage?.includes(leak.experiment) && r.status === 'crash') }))))
      .filter((x) => x.ran !== undefined);
    expect(runs.length).toBeGreaterThanOrEqual(1);
    for (const { n, ran } of runs) {
      expect(ran!.reason).toContain(CANARY);
      const shared = (await n.shared()).find((r): r is SignedResult => r.type === 'result' && r.peer === n.net.peerId && r.experiment === ran!.id)!;
      expect(shared.reason).toBe('crash');
      expect(isReasonCode(shared.reason)).toBe(true);
    }
    await until('the attacker to receive the crash results', () => [attacker, second].every((t) =>
      t.received.some((x) => x.r.type === 'result' && x.r.status === 'crash' && x.r.lineage.includes(leak.experiment))));
    // Also whatever the honest nodes share from now on.
    await Promise.all([a.run(1, idea('WARMDOWN_RATIO', '0.7')), b.run(1, idea('DEPTH', '6'))]);

    // (b) is disputed by both honest replicas on every node, and never verified.
    await until('both replications everywhere', async () => (await Promise.all([a, b].map((n) => n.shared())))
      .every((rs) => rs.filter((r) => r.type === 'verify' && r.experiment === fake.experiment).length === 2));
    for (const n of [a, b]) {
      const entry = leaderboard(await n.shared(), 100).flatMap((c) => c.entries).find((e) => e.experiment === fake.experiment)!;
      expect(entry).toMatchObject({ standing: 'disputed', disputes: 2, confirmations: 0 });
      for (const v of (await n.shared()).filter((r) => r.type === 'verify' && r.experiment === fake.experiment)) {
        expect(v).toMatchObject({ verdict: 'dispute' });
        expect((v as { val_bpb: number }).val_bpb).toBeGreaterThan(1);
      }
      const records = await n.store.list();
      expect(records.filter((r) => r.lineage?.includes(fake.experiment) && r.status !== 'invalid' && r.status !== 'skip')).toEqual([]);
      // Honest work went on: its own baseline and win were run and kept.
      expect(records.filter((r) => r.status === 'keep' && r.origin.kind !== 'adopt').length).toBeGreaterThanOrEqual(2);
      // Nothing of (a) was stored.
      expect((await n.shared()).filter((r) => r.peer === attacker.net.peerId && r.seq >= 1000)).toEqual([]);
      await expectNothingHarmful(n, join(n.state, '..'));
    }

    // Nothing the attacker received under either key, by gossip, sync or fetch, carries the secret.
    for (const t of [attacker, second]) {
      expect(JSON.stringify(t.received)).not.toContain(CANARY);
      const hashes = new Set(t.received.flatMap(({ r }) => (r.type === 'result' ? [r.hash, r.parentHash, r.diffHash] : [])).filter((h): h is string => h !== null));
      for (const hash of hashes) {
        const bytes = await t.net.fetchObject(hash, [a.net.peerId, b.net.peerId]);
        if (bytes) expect(Buffer.from(bytes).toString('utf8')).not.toContain(CANARY);
      }
      await t.net.stop();
    }
  });
});
