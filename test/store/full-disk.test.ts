import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { bwrapArgs, bwrapMountsUnavailable } from '../helpers/bwrap.js';
import { REPO } from '../helpers/paths.js';
import { makeRecord } from '../helpers/records.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

interface Outcome {
  acked: string[];
  failedAt: string | null;
  first: { name: string; message: string; hint: string } | null;
  /** Writes tried after space was freed again: each one's error, or 'ok'. */
  later: string[];
  listed: string[];
}

/**
 * Runs the compiled store (dist/, as the CLI tests do) on a small tmpfs: opens it, fills the disk up
 * to `slack` KiB, puts records until one fails, frees the space, tries more writes, then reopens and lists.
 */
const SCRIPT = `
import { execSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
const { openStore } = await import(process.env.STORE_MODULE);
const [dir, filler, recordsFile, outFile] = process.argv.slice(2);
const records = JSON.parse(readFileSync(recordsFile, 'utf8'));
const out = { acked: [], failedAt: null, first: null, later: [], listed: [] };
let store = await openStore(dir);
execSync(process.env.FILL);
let i = 0;
for (; i < records.length; i++) {
  try {
    await store.put(records[i]);
    out.acked.push(records[i].id);
  } catch (err) {
    out.failedAt = records[i].id;
    out.first = { name: err.name, message: err.message, hint: err.hint };
    break;
  }
}
rmSync(filler);
for (const r of records.slice(i + 1, i + 21)) {
  try {
    await store.put(r);
    out.acked.push(r.id);
    out.later.push('ok');
  } catch (err) {
    out.later.push(err.name + ': ' + err.message);
  }
}
await store.close();
store = await openStore(dir);
out.listed = (await store.list()).map((r) => r.id);
await store.close();
writeFileSync(outFile, JSON.stringify(out));
`;

const unavailable = bwrapMountsUnavailable();

describe.skipIf(unavailable !== null)('store on a disk that fills up', () => {
  it.each([8, 20, 36])('fails with a clear StoreError, then refuses every write, so that nothing it acknowledged is lost (%i KiB free)', async (slackKiB) => {
    const root = await mkdtemp(join(tmpdir(), 'swarm-store-full-'));
    dirs.push(root);
    const disk = join(root, 'disk');
    await mkdir(disk);
    // big enough that a few fill the slack; LevelDB's log is written in 32 KiB blocks, so a torn
    // record and the records after it share a block
    const records = Array.from({ length: 400 }, (_, k) => makeRecord({ seq: k + 1, id: `r${k + 1}`, hypothesis: `h${k} ${'x'.repeat(1500)}` }));
    await writeFile(join(root, 'records.json'), JSON.stringify(records));
    await writeFile(join(root, 'script.mjs'), SCRIPT);
    const db = join(disk, 'db');
    const fill = `dd if=/dev/zero of=${disk}/filler bs=4096 2>/dev/null; truncate -s -${slackKiB}K ${disk}/filler`;
    const r = await execa('bwrap', bwrapArgs(['--size', String(4 * 1024 * 1024), '--tmpfs', disk], [
      'node', join(root, 'script.mjs'), db, join(disk, 'filler'), join(root, 'records.json'), join(root, 'out.json'),
    ]), { env: { STORE_MODULE: join(REPO, 'dist', 'store', 'index.js'), FILL: fill }, reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    const out = JSON.parse(await readFile(join(root, 'out.json'), 'utf8')) as Outcome;

    expect(out.failedAt, 'the disk never filled up').not.toBeNull();
    expect(out.first).toMatchObject({ name: 'StoreError' });
    expect(out.first!.message).toMatch(new RegExp(`cannot write experiment \\d+ to the store: the disk holding ${db} is full \\(ENOSPC: no space left on device\\)`));
    expect(out.first!.hint).toMatch(/free some space/);
    // fail-stop: after a failed write the log may end in a torn record, so nothing more is acknowledged
    expect(out.later.length).toBeGreaterThan(0);
    for (const l of out.later) expect(l).toMatch(/^StoreError: .*is full.*writes stopped at that failure/);
    // every acknowledged record survives the reopen; the failed one may or may not be there
    for (const id of out.acked) expect(out.listed).toContain(id);
    expect(out.listed.filter((id) => !out.acked.includes(id)).every((id) => id === out.failedAt)).toBe(true);
  });
});
