/**
 * The spread benchmark (scripts/bench-spread.mjs) at CI size: 10 node processes, a late joiner on
 * 1,000 records. Figures are not asserted (the box is shared); what must hold on any box is.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/p2p/index.js';
import { REPO } from '../helpers/paths.js';

describe('spread benchmark, short', () => {
  it('every node holds every result; the late joiner holds every record; bytes per record are measured', async () => {
    const run = await execa('node', [
      join(REPO, 'scripts', 'bench-spread.mjs'), '--nodes', '10', '--records', '1000', '--origins', '20', '--publish', '30', '--rate', '5',
    ], { reject: false, all: true, timeout: 240_000 });
    expect(run.exitCode, run.all).toBe(0);
    const r = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));

    // Every published result reached the store of every other node, at 10 nodes and at 2.
    expect(r.spread.missing).toBe(0);
    expect(r.spread.baseline2.missing).toBe(0);
    expect(r.spread.p50Ms).toBeGreaterThan(0);
    expect(r.spread.p99Ms).toBeGreaterThanOrEqual(r.spread.p50Ms);
    // Nothing was dropped: every record is valid, and no honest peer got scored out.
    expect(r.network.dropped).toBe(0);
    expect(r.network.peersMin).toBeGreaterThan(0);

    // The late joiner caught up on all 1,000 + 30 records, and the local read baseline saw as many.
    expect(r.lateJoin.error).toBeNull();
    expect(r.lateJoin.records).toBe(1030);
    expect(r.lateJoin.catchUpMs).toBeGreaterThan(0);

    // Bytes on the wire: counted from the kernel's sockets, at least one copy of the record per
    // delivery, and the record itself within the gossip limit.
    expect(r.wire.recordBytes).toBeGreaterThan(1000);
    expect(r.wire.recordBytes).toBeLessThan(LIMITS.messageBytes);
    expect(r.wire.perDeliveryBytes).toBeGreaterThan(r.wire.recordBytes);
    expect(r.memory.rssP50Mb).toBeGreaterThan(r.memory.bareNodeMb * 0.5);
  }, 250_000);
});
