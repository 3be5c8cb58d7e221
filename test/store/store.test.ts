import { mkdtemp, rm, chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError, type ExperimentRecord } from '../../src/core/index.js';
import { exportTsv, openStore, TSV_HEADER } from '../../src/store/index.js';
import { makeRecord } from '../helpers/records.js';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'swarm-store-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('store', () => {
  it('keeps records across reopen, listed by sequence number, updates in place', async () => {
    const dir = await tmp();
    let store = await openStore(dir);
    await store.put(makeRecord({ seq: 2, id: 'b' }));
    await store.put(makeRecord({ seq: 1, id: 'a', status: 'running' }));
    await store.put(makeRecord({ seq: 1, id: 'a', status: 'keep' }));
    await store.close();

    store = await openStore(dir);
    const all = await store.list();
    expect(all.map((r) => [r.seq, r.id, r.status])).toEqual([[1, 'a', 'keep'], [2, 'b', 'discard']]);
    expect((await store.get('b'))?.metrics?.val_bpb).toBe(1.5);
    expect(await store.get('nope')).toBeUndefined();
    await store.close();
  });

  it('refuses a second opener with a message that names the state folder', async () => {
    const dir = await tmp();
    const store = await openStore(dir);
    await expect(openStore(dir)).rejects.toThrow(/in use by another swarm process/);
    await store.close();
  });

  it('reports an unwritable folder as a StoreError with a hint', async () => {
    if (process.getuid?.() === 0) {
      // root ignores permissions: a path under a regular file cannot be created either way.
      const dir = await tmp();
      await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'file'), 'x'));
      const err = await openStore(join(dir, 'file', 'db')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).hint).toMatch(/--state/);
      return;
    }
    const dir = await tmp();
    await mkdir(join(dir, 'ro'));
    await chmod(join(dir, 'ro'), 0o500);
    await expect(openStore(join(dir, 'ro', 'db'))).rejects.toBeInstanceOf(StoreError);
  });
});

describe('swarm records', () => {
  const rec = (peer: string, seq: number) => ({ peer, seq, type: 'result', body: `${peer}/${seq}` });

  it('pages from `after` per origin in seq order, and finds each origin\'s contiguous high-water seq', async () => {
    const store = await openStore(await tmp());
    // Origin "ab" is a prefix of "abc": their keys must not mix. "q" has a gap after 2.
    for (const [peer, seq] of [['abc', 1], ['ab', 2], ['q', 5], ['ab', 1], ['q', 1], ['q', 2], ['abc', 2], ['ab', 3], ['z', 2]] as const) {
      await store.putShared(rec(peer, seq));
    }
    const ids = (rs: { peer: string; seq: number }[]) => rs.map((r) => `${r.peer}/${r.seq}`);
    expect(ids(await store.shared())).toEqual(['ab/1', 'ab/2', 'ab/3', 'abc/1', 'abc/2', 'q/1', 'q/2', 'q/5', 'z/2']);
    expect(ids(await store.shared({ ab: 2, q: 1, z: 9 }))).toEqual(['ab/3', 'abc/1', 'abc/2', 'q/2', 'q/5']);
    expect(ids(await store.shared({ ab: 3, abc: 0 }, 3))).toEqual(['abc/1', 'abc/2', 'q/1']);
    // A seq far past 12 digits sorts as text, not as a number: skipping must still end.
    await store.putShared(rec('q', 99_999_999_999_999));
    expect(ids(await store.shared({ q: 100_000_000_000_000, ab: 3, abc: 2, z: 2 }))).toEqual([]);
    // Inherited names are not origins.
    expect(ids(await store.shared(JSON.parse('{"__proto__": 5}') as Record<string, number>, 1))).toEqual(['ab/1']);
    expect(await store.sharedKnown()).toEqual({ ab: 3, abc: 2, q: 2 });
    await store.close();
  });

  it('stores a burst in one write; a key already held, or earlier in the burst, keeps its first version', async () => {
    const dir = await tmp();
    let store = await openStore(dir);
    expect(await store.putShared({ ...rec('p', 1), body: 'first' })).toBe(true);
    expect(await store.putSharedMany([{ ...rec('p', 1), body: 'second' }, rec('p', 2), { ...rec('p', 2), body: 'other' }, rec('r', 1)]))
      .toEqual([false, true, false, true]);
    expect(await store.putSharedMany([])).toEqual([]);
    await store.close();
    store = await openStore(dir);
    expect((await store.shared()).map((r) => r.body)).toEqual(['first', 'p/2', 'r/1']);
    await store.close();
  });
});

describe('results.tsv', () => {
  it('writes the reference format: 7-char commit, 6-decimal bpb, GB with 1 decimal, zeros for crashes', () => {
    const records: ExperimentRecord[] = [
      makeRecord({ seq: 1, status: 'keep', commit: 'abcdef0123456789', hypothesis: 'baseline' }),
      makeRecord({ seq: 2, status: 'crash', commit: '1234567890abcdef', metrics: null, hypothesis: 'tab\there\nnewline' }),
      makeRecord({ seq: 3, status: 'invalid', commit: null, hypothesis: 'never ran' }),
      makeRecord({ seq: 4, status: 'running', commit: 'ffffffffffffffff' }),
    ];
    const lines = exportTsv(records).trimEnd().split('\n');
    expect(lines[0]).toBe(TSV_HEADER);
    expect(lines[1]).toBe('abcdef0\t1.500000\t2.0\tkeep\tbaseline');
    expect(lines[2]).toBe('1234567\t0.000000\t0.0\tcrash\ttab here newline');
    expect(lines).toHaveLength(3);
  });
});
