import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../../src/core/index.js';
import { cli } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';

const FAKES = join(REPO, 'test', 'fixtures', 'agents');
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'swarm-cli-agent-'));
  dirs.push(d);
  return d;
}

const swarm = cli({ SWARM_NOISE_RUNS: '0', PATH: `${FAKES}${delimiter}${process.env.PATH}` });

describe('swarm join --proposer agent', () => {
  it('--agent claude: Claude Code (here a fake on PATH) proposes, the node trains it, `show` tells the call', async () => {
    const state = await tmp();
    const log = join(state, 'calls.jsonl');
    const run = await swarm(['join', '--state', state, '--max-experiments', '3', '--budget', '1', '--proposer', 'agent', '--agent', 'claude', '--agent-max-cost', '0.5'], { FAKE_AGENT_LOG: log });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).toMatch(/proposer agent:claude/);
    expect(run.all).toMatch(/#2 raise MATRIX_LR a little/);

    const records = JSON.parse((await swarm(['log', '--json', '--state', state])).stdout) as ExperimentRecord[];
    expect(records.map((r) => r.status)).toEqual(['keep', 'keep', 'keep']);
    expect(records[1]!.agent).toMatchObject({ agent: 'claude', outcome: 'edited', costUsd: 0.0123, maxCostUsd: 0.5, timeoutSeconds: 600 });
    const calls = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { tool: string; argv: string[] });
    expect(calls.map((c) => c.tool)).toEqual(['claude', 'claude']);
    expect(calls[0]!.argv).toContain('--max-budget-usd');

    const show = await swarm(['show', '2', '--state', state]);
    expect(show.stdout).toMatch(/agent call: {2}claude edited, [\d.]+ s of a 600 s cap, \$0\.0123 of a \$0\.5 cap/);
  });

  it('refuses a broken setup with the reason and the fix', async () => {
    const state = await tmp();
    const none = await swarm(['join', '--state', state, '--proposer', 'agent']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/swarm: the agent proposer needs a coding agent\n {2}hint: pass --agent claude\|codex\|aider\|opencode/);

    const missing = await swarm(['join', '--state', state, '--proposer', 'agent', '--agent', 'aider', '--max-experiments', '1'], { PATH: '/usr/bin:/bin' });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/swarm: the coding agent "aider" is not on PATH\n {2}hint: install aider/);
  });
});
