/** The loop tells its proposer when the node has plateaued and which directions saturated (ProposalContext.exploration). */
import { describe, expect, it } from 'vitest';
import type { Exploration, Proposal, Proposer } from '../../src/agent/index.js';
import { node } from '../helpers/node.js';
import { STUB_TRAINER } from '../helpers/paths.js';

/** Plays back MATRIX_LR values (the stub's optimum is 0.04, the baseline 0.02) and keeps what each proposal was told. */
function recording(values: string[]): Proposer & { told: Exploration[] } {
  const told: Exploration[] = [];
  return {
    name: 'script', told,
    async propose(ctx): Promise<Proposal> {
      told.push(ctx.exploration!);
      const v = values.shift();
      if (v === undefined) throw new Error('script exhausted');
      return { hypothesis: `MATRIX_LR -> ${v}`, source: ctx.source.replace(/^MATRIX_LR = \S+/m, `MATRIX_LR = ${v}`), proposer: 'script' };
    },
  };
}

describe('plateau switching in the loop', () => {
  it('turns the plateau on after N experiments without a keep, and off again at the next keep', async () => {
    const n = await node({ trainerDir: STUB_TRAINER, budget: 1, plateau: 2 });
    // discard, discard, discard, keep, discard, discard (a proposal is drafted while the one before it trains)
    const proposer = recording(['0.01', '0.005', '0.002', '0.03', '0.001', '0.0015']);
    await n.run(7, proposer);
    const told = proposer.told;
    expect(told.length).toBeGreaterThanOrEqual(6);
    for (const t of told) expect(t.plateau).toBe(t.sinceKeep >= 2);
    expect(told.some((t) => t.plateau)).toBe(true);
    const statuses = (await n.store.list()).map((r) => r.status);
    expect(statuses.slice(0, 5)).toEqual(['keep', 'discard', 'discard', 'discard', 'keep']);
    // The last proposal was drafted after the keep had been recorded.
    expect(told.at(-1)).toMatchObject({ plateau: false, sinceKeep: 0 });
    expect(told.some((t) => t.saturated.includes('MATRIX_LR'))).toBe(true);
    expect(told[0]!.open).toEqual(expect.arrayContaining(['MATRIX_LR', 'DEPTH', 'EMBEDDING_LR', 'WARMDOWN_RATIO']));
  }, 60_000);

  it('never turns on with --plateau 0', async () => {
    const n = await node({ trainerDir: STUB_TRAINER, budget: 1, plateau: 0 });
    const proposer = recording(['0.01', '0.005', '0.002']);
    await n.run(4, proposer);
    expect(proposer.told.every((t) => !t.plateau && t.plateauAfter === 0)).toBe(true);
  }, 60_000);
});
