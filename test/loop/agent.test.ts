import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentProposer } from '../../src/agent/index.js';
import { node } from '../helpers/node.js';
import { REPO, STUB_TRAINER } from '../helpers/paths.js';

const FAKES = join(REPO, 'test', 'fixtures', 'agents');
const saved = { ...process.env };
let dir: string;

beforeAll(() => {
  process.env.PATH = `${FAKES}${delimiter}${saved.PATH}`;
});
afterAll(() => {
  process.env.PATH = saved.PATH;
});
afterEach(async () => {
  for (const k of ['FAKE_AGENT_LOG', 'FAKE_AGENT_MODE', 'FAKE_AGENT_COPY']) delete process.env[k];
  await rm(dir, { recursive: true, force: true });
});

async function fakes(mode: string): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'swarm-agent-loop-'));
  process.env.FAKE_AGENT_LOG = join(dir, 'calls.jsonl');
  process.env.FAKE_AGENT_MODE = mode;
  process.env.FAKE_AGENT_COPY = dir;
  return dir;
}

describe('the loop with a coding agent as its proposer', () => {
  it('runs what the agent edits, drafting the next proposal while a run trains, and records each call', async () => {
    await fakes('edit');
    const n = await node({ trainerDir: STUB_TRAINER, budget: 1, env: { SWARM_STUB_SLEEP: '1' } });
    const report = await n.run(4, agentProposer({ preset: 'claude', command: null, timeoutSeconds: 30, maxCostUsd: 1 }));
    expect(report.created).toBe(4);
    const records = await n.store.list();
    const [, ...proposed] = records;
    expect(proposed.map((r) => r.status)).toEqual(['keep', 'keep', 'keep']);
    expect(proposed.map((r) => r.hypothesis)).toEqual(['MATRIX_LR', 'EMBEDDING_LR', 'WARMDOWN_RATIO'].map((c) => `raise ${c} a little, the stub rewards it`));
    for (const r of proposed) {
      expect(r.origin).toEqual({ kind: 'proposer', proposer: 'agent:claude' });
      expect(r.agent).toMatchObject({ agent: 'claude', outcome: 'edited', costUsd: 0.0123, maxCostUsd: 1, timeoutSeconds: 30 });
    }

    // Pipelined: each call began while the experiment before the one it proposed was still training.
    const calls = (await readFile(join(dir, 'calls.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { at: number });
    expect(calls).toHaveLength(3);
    calls.forEach((c, i) => expect(c.at).toBeLessThan(Date.parse(records[i]!.endedAt!)));

    // The third call saw the second experiment in flight and the best's lineage.
    expect((await readdir(dir)).filter((f) => f.startsWith('SWARM-'))).toHaveLength(3);
    const third = await readFile(join(dir, 'SWARM-3.md'), 'utf8');
    expect(third).toMatch(/In flight right now[\s\S]*#3 raise EMBEDDING_LR/);
    expect(third).toMatch(/lineage[\s\S]*- #1 baseline[\s\S]*- #2 raise MATRIX_LR/);
  });

  it('an agent that hangs is recorded with the reason and the loop goes on', async () => {
    await fakes('hang');
    const n = await node({ trainerDir: STUB_TRAINER, budget: 1 });
    const report = await n.run(3, agentProposer({ preset: 'codex', command: null, timeoutSeconds: 1, maxCostUsd: null }));
    expect(report.created).toBe(3);
    const [baseline, ...rest] = await n.store.list();
    expect(baseline!.status).toBe('keep');
    expect(rest).toHaveLength(2);
    for (const r of rest) {
      expect(r.status).toBe('invalid');
      expect(r.reason).toMatch(/codex did not finish within 1 s \(its process group was killed\)/);
      expect(r.agent).toMatchObject({ agent: 'codex', outcome: 'timeout', timeoutSeconds: 1, costUsd: null });
      expect(r.origin.proposer).toBe('agent:codex');
    }
  });
});
