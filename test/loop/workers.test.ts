import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mutateProposer } from '../../src/agent/index.js';
import { resolveWorkers } from '../../src/config/index.js';
import type { ExperimentRecord, Hardware } from '../../src/core/index.js';
import { node } from '../helpers/node.js';
import { STUB_TRAINER } from '../helpers/paths.js';
import { scripted, setConst } from '../helpers/swarm.js';

/** The stub, but each run takes SLEEP seconds and writes the device variables it saw to env.json in its run folder. */
const SLEEPY = `import json
import os
import time

from prepare import summary

SEED = int(os.environ.get("SWARM_SEED") or 42)

DEPTH = 4  # layers
MATRIX_LR = 0.02  # Muon learning rate
EMBEDDING_LR = 0.3  # AdamW learning rate of the embeddings
WARMDOWN_RATIO = 0.5  # fraction of the budget spent decaying the learning rate
SLEEP = 3.0  # seconds the run takes

with open("env.json", "w") as f:
    json.dump({k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "OMP_NUM_THREADS")}, f)
time.sleep(SLEEP)
val_bpb = 1.0 + (MATRIX_LR - 0.04) ** 2 * 100 + (EMBEDDING_LR - 0.6) ** 2 + (WARMDOWN_RATIO - 0.7) ** 2 + abs(DEPTH - 6) * 0.01
summary(val_bpb, DEPTH, SEED)
`;

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function sleepyTrainer(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-sleepy-'));
  dirs.push(dir);
  await cp(STUB_TRAINER, dir, { recursive: true });
  await writeFile(join(dir, 'train.py'), SLEEPY);
  return dir;
}

const hw = (device: Hardware['device'], count: number): Hardware => ({
  device, name: device === 'cuda' ? 'Fake GPU 80GB' : 'Fake CPU', count, memoryGb: 80, torch: '2.0', cuda: device === 'cuda' ? '12.0' : null, python: '3.12',
});

/** What each run saw, by the seq of its record (noise and replication folders are not experiments). */
async function seenEnv(state: string): Promise<Map<number, Record<string, string | null>>> {
  const seen = new Map<number, Record<string, string | null>>();
  for (const folder of await readdir(join(state, 'runs'))) {
    const m = /^(\d{5})-/.exec(folder);
    if (m) seen.set(Number(m[1]), JSON.parse(await readFile(join(state, 'runs', folder, 'env.json'), 'utf8')));
  }
  return seen;
}

const ms = (iso: string | null) => Date.parse(iso!);
const ran = (records: ExperimentRecord[]) => records.filter((r) => r.status !== 'invalid' && r.status !== 'skip');

describe('workers: several experiments at once', () => {
  it('runs two experiments on two GPUs in about the time of one, each run seeing only its own GPU', async () => {
    const cuda = hw('cuda', 2);
    const workers = resolveWorkers({ gpus: 'all', workers: null }, cuda, [], 16);
    const n = await node({ trainerDir: await sleepyTrainer(), budget: 1, hardware: cuda, workers });
    const report = await n.run(3);
    expect(report.created).toBe(3);

    const [baseline, a, b] = await n.store.list();
    expect(baseline!.origin.kind).toBe('baseline');
    // The baseline runs alone (nothing is judged before it); the two experiments after it overlap.
    const one = ms(baseline!.endedAt) - ms(baseline!.startedAt);
    const two = Math.max(ms(a!.endedAt), ms(b!.endedAt)) - Math.min(ms(a!.startedAt), ms(b!.startedAt));
    expect(one).toBeGreaterThan(3000);
    expect(two).toBeLessThan(1.6 * one);

    // Each run saw exactly its worker's GPU, in PCI order; the two at once had different GPUs.
    const workerOf = new Map(n.events.flatMap((e) => (e.type === 'start' ? [[e.record.seq, e.worker] as const] : [])));
    const seen = await seenEnv(n.state);
    for (const r of [baseline!, a!, b!]) {
      expect(seen.get(r.seq)).toEqual({ CUDA_VISIBLE_DEVICES: String(workerOf.get(r.seq)), CUDA_DEVICE_ORDER: 'PCI_BUS_ID', OMP_NUM_THREADS: null });
    }
    expect(new Set([workerOf.get(a!.seq), workerOf.get(b!.seq)])).toEqual(new Set([0, 1]));
    // Every event names its worker; the hardware class is the GPU, not the box.
    expect(n.events.every((e) => e.worker === 0 || e.worker === 1)).toBe(true);
    expect(a!.hardware).toMatchObject({ name: 'Fake GPU 80GB', count: 2 });
  });

  it('never runs a candidate twice across workers, counts --max-experiments across them, and splits the CPU', async () => {
    const workers = resolveWorkers({ gpus: 'all', workers: 3 }, hw('cpu', 1), [], 7);
    expect(workers.map((w) => w.threads)).toEqual([2, 2, 2]);
    const trainerDir = await sleepyTrainer();
    await writeFile(join(trainerDir, 'train.py'), SLEEPY.replace('SLEEP = 3.0', 'SLEEP = 0.2'));
    const n = await node({ trainerDir, budget: 1, hardware: hw('cpu', 1), workers });
    const report = await n.run(9, mutateProposer({ seed: 5 }));
    expect(report.created).toBe(9);

    const records = await n.store.list();
    const counted = records.filter((r) => r.status !== 'skip');
    expect(counted).toHaveLength(9);
    const hashes = ran(records).map((r) => r.hash);
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(records.every((r) => r.status !== 'running')).toBe(true);
    for (const env of (await seenEnv(n.state)).values()) expect(env).toEqual({ CUDA_VISIBLE_DEVICES: null, CUDA_DEVICE_ORDER: null, OMP_NUM_THREADS: '2' });
    // More than one worker did experiments, and the best branch holds the last kept train.py.
    expect(new Set(n.events.filter((e) => e.type === 'start').map((e) => e.worker)).size).toBeGreaterThan(1);
    const kept = records.filter((r) => r.status === 'keep').at(-1)!;
    expect((await n.workspace.best()).hash).toBe(kept.hash);
  });

  it('runs the noise floor\'s seeds on the free workers at once, and experiments only after the floor', async () => {
    const workers = resolveWorkers({ gpus: 'all', workers: 2 }, hw('cpu', 1), [], 4);
    const trainerDir = await sleepyTrainer();
    await writeFile(join(trainerDir, 'train.py'), SLEEPY.replace('SLEEP = 3.0', 'SLEEP = 2.0'));
    const n = await node({ trainerDir, budget: 1, workers, noise: { runs: 2, every: 50, k: 2 }, env: { SWARM_STUB_NOISE: '0.01' } });
    await n.run(3);
    const [floor, ...more] = await n.store.noiseFloors();
    expect(more).toHaveLength(0);
    expect(floor!.seeds).toEqual([0, 1001, 1002]);
    expect(floor!.values).toHaveLength(3);
    const noiseOn = n.events.filter((e) => e.type === 'run' && e.kind === 'noise').map((e) => e.worker);
    expect(noiseOn.sort()).toEqual([0, 1]);
    const records = await n.store.list();
    expect(records).toHaveLength(3);
    for (const r of records.slice(1)) expect(Date.parse(r.startedAt)).toBeGreaterThanOrEqual(Date.parse(floor!.at));
  });

  it('a node stopped with two runs in flight resumes both on its next start', async () => {
    const workers = resolveWorkers({ gpus: 'all', workers: null }, hw('cuda', 2), [], 16);
    const trainerDir = await sleepyTrainer();
    await writeFile(join(trainerDir, 'train.py'), SLEEPY.replace('SLEEP = 3.0', 'SLEEP = 1.0'));
    const slow = (h: string) => ({ hypothesis: h, edit: (s: string) => setConst('SLEEP', '15')(setConst('DEPTH', h === 'a' ? '5' : '3')(s)) });
    const n = await node({ trainerDir, budget: 1, hardware: hw('cuda', 2), workers, proposer: scripted([slow('a'), slow('b')]) });
    const stop = new AbortController();
    const started = new Set<number>();
    const watch = setInterval(() => {
      for (const e of n.events) if (e.type === 'start' && e.record.origin.kind !== 'baseline') started.add(e.record.seq);
      if (started.size === 2) setTimeout(() => stop.abort(), 500);
    }, 100);
    try {
      await n.run(10, undefined, stop.signal);
    } finally {
      clearInterval(watch);
    }
    const stopped = await n.store.list();
    expect(stopped.filter((r) => r.status === 'running').map((r) => [r.seq, r.attempts])).toEqual([[2, 0], [3, 0]]);

    // Both resume at once (they count against this start's --max-experiments) and nothing else starts.
    const again = await n.run(2, scripted([]));
    expect(again.created).toBe(2);
    const after = await n.store.list();
    expect(after.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(after.every((r) => r.status !== 'running' && r.attempts <= 1)).toBe(true);
    const resumedOn = n.events.filter((e) => e.type === 'start' && e.record.seq > 1).map((e) => e.worker);
    expect(resumedOn.slice(-2).sort()).toEqual([0, 1]);
  }, 120_000);

  it('a win kept while another worker trained becomes best if it beats that newer best; the other change goes again on top', async () => {
    const workers = resolveWorkers({ gpus: 'all', workers: 2 }, hw('cpu', 1), [], 4);
    const trainerDir = await sleepyTrainer();
    await writeFile(join(trainerDir, 'train.py'), SLEEPY.replace('SLEEP = 3.0', 'SLEEP = 0.5'));
    const edits = (...pairs: [string, string][]) => (s: string) => pairs.reduce((src, [k, v]) => setConst(k, v)(src), s);
    const proposer = scripted([
      { hypothesis: 'A: embeddings', edit: edits(['EMBEDDING_LR', '0.6']) }, // 1.10, done first
      { hypothesis: 'B: three at once', edit: edits(['MATRIX_LR', '0.04'], ['WARMDOWN_RATIO', '0.7'], ['DEPTH', '6'], ['SLEEP', '6.0']) }, // 1.09, later
      { hypothesis: 'C: shallower', edit: edits(['DEPTH', '2'], ['SLEEP', '12.0']) }, // worse, and still running when B ends
      ...Array.from({ length: 4 }, (_, i) => ({ hypothesis: `spare ${i}`, edit: edits(['DEPTH', String(7 + i)]) })),
    ]);
    const n = await node({ trainerDir, budget: 1, workers, proposer });
    await n.run(5);
    const records = await n.store.list();
    const by = (prefix: string) => records.find((r) => r.hypothesis.startsWith(prefix))!;
    const [a, b] = [by('A:'), by('B:')];
    expect(a.status).toBe('keep');
    // B ran on the baseline but was judged against A, the best when it finished, and beat it.
    expect(b.parentHash).toBe(records[0]!.hash);
    expect(b).toMatchObject({ status: 'keep', bestBefore: a.metrics!.val_bpb });
    // A's change went again on top of B: both changes in one train.py, measured, and now the best.
    const again = by('A: embeddings (again, on top of #');
    expect(again.parentHash).toBe(b.hash);
    expect(again.diff).toContain('+EMBEDDING_LR = 0.6');
    expect(again).toMatchObject({ status: 'keep', bestBefore: b.metrics!.val_bpb });
    const best = await n.workspace.best();
    expect(best.hash).toBe(again.hash);
    expect(best.source).toMatch(/^MATRIX_LR = 0\.04/m);
    expect(best.source).toMatch(/^EMBEDDING_LR = 0\.6/m);
  }, 120_000);
});
