import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/core/index.js';

async function configFile(body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-config-'));
  const file = join(dir, 'swarm.config.json');
  await writeFile(file, body);
  return file;
}

describe('config', () => {
  it('layers defaults < file < environment < flags, resolving file paths against the file', async () => {
    const file = await configFile(JSON.stringify({ budget: 60, dataset: 'sotu', state: 'st', maxExperiments: 3, seed: 5 }));
    const c = loadConfig({ file, env: { SWARM_BUDGET: '30', SWARM_SEED: '7' }, flags: { budget: '10' }, cwd: '/' });
    expect(c.budget).toBe(10);
    expect(c.seed).toBe(7);
    expect(c.maxExperiments).toBe(3);
    expect(c.state).toBe(join(file, '..', 'st'));
    expect(c.timeout).toBe(130);
    expect(c.proposer).toBe('mutate');
  });

  it('names the file and the problem for broken JSON, unknown keys and bad values', async () => {
    const broken = await configFile('{ "budget": 60,');
    expect(() => loadConfig({ file: broken, env: {} })).toThrow(new RegExp(`${broken}.*not valid JSON`));
    const unknown = await configFile('{ "budgett": 60 }');
    expect(() => loadConfig({ file: unknown, env: {} })).toThrow(/unknown setting\(s\): budgett/);
    const bad = await configFile('{ "dataset": "imagenet" }');
    expect(() => loadConfig({ file: bad, env: {} })).toThrow(/"dataset"\) must be one of sotu, climbmix, got "imagenet"/);
    expect(() => loadConfig({ env: { SWARM_BUDGET: '-1' } })).toThrow(/SWARM_BUDGET must be a positive number/);
    expect(() => loadConfig({ env: {}, flags: { maxExperiments: '2.5' } })).toThrow(/--max-experiments must be an integer/);
    expect(() => loadConfig({ env: {}, flags: { proposer: 'openai' } })).toThrow(ConfigError);
  });

  it('reads the trust settings and names bad ones', async () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({ noiseRuns: 3, noiseEvery: 50, noiseK: 2, replicas: 2, runPolicy: 'all', allowlist: [] });
    const peer = '12D3KooWGzh8Jd3xh3TD9PcWhTXiDrxXXNdS6HXNeEKhqjrByfz6';
    const file = await configFile(JSON.stringify({ runPolicy: 'allowlist', allowlist: [peer], noiseRuns: 0 }));
    expect(loadConfig({ file, env: { SWARM_REPLICAS: '0' } })).toMatchObject({ runPolicy: 'allowlist', allowlist: [peer], noiseRuns: 0, replicas: 0 });
    expect(() => loadConfig({ env: { SWARM_RUN_POLICY: 'some' } })).toThrow(/SWARM_RUN_POLICY must be one of all, verified, allowlist, none/);
    expect(() => loadConfig({ env: {}, flags: { noiseRuns: '1' } })).toThrow(/noiseRuns must be 0 .* or at least 2/);
    expect(() => loadConfig({ env: {}, flags: { allowlist: `${peer},not-a-peer` } })).toThrow(/--allowlist must be a list of peer ids.*not-a-peer/);
    expect(() => loadConfig({ env: { SWARM_NOISE_K: '-1' } })).toThrow(/SWARM_NOISE_K must be zero or a positive number/);
  });

  it('defaults claude to a model and refuses a timeout inside the budget', () => {
    expect(loadConfig({ env: {}, flags: { proposer: 'claude' } }).model).toBe('claude-sonnet-4-5');
    expect(() => loadConfig({ env: {}, flags: { budget: '60', timeout: '30' } })).toThrow(/must exceed the budget/);
  });

  it('reads the budget mode and token budget from the file, the environment and flags', async () => {
    const d = loadConfig({ env: {} });
    expect(d.budgetMode).toBe('time');
    expect(d.budgetTokens).toBe(2_000_000);
    expect(d.timeout).toBe(600);
    const file = await configFile(JSON.stringify({ budgetMode: 'tokens', budgetTokens: 500_000 }));
    const f = loadConfig({ file, env: {} });
    expect([f.budgetMode, f.budgetTokens, f.timeout]).toEqual(['tokens', 500_000, 3600]);
    const e = loadConfig({ file, env: { SWARM_BUDGET_MODE: 'time', SWARM_BUDGET_TOKENS: '123' } });
    expect([e.budgetMode, e.budgetTokens, e.timeout]).toEqual(['time', 123, 600]);
    const g = loadConfig({ file, env: { SWARM_BUDGET_TOKENS: '123' }, flags: { budgetTokens: '2e6', timeout: '90' } });
    expect([g.budgetMode, g.budgetTokens, g.timeout]).toEqual(['tokens', 2_000_000, 90]);
  });

  it('refuses bad budget modes and token budgets; the timeout-vs-budget check is for time mode only', async () => {
    expect(() => loadConfig({ env: { SWARM_BUDGET_MODE: 'steps' } })).toThrow(/SWARM_BUDGET_MODE must be one of time, tokens, got "steps"/);
    expect(() => loadConfig({ env: { SWARM_BUDGET_TOKENS: '0' } })).toThrow(/SWARM_BUDGET_TOKENS must be a positive integer/);
    expect(() => loadConfig({ env: {}, flags: { budgetTokens: '1.5' } })).toThrow(/--budget-tokens must be an integer/);
    expect(() => loadConfig({ env: {}, flags: { budgetTokens: 'lots' } })).toThrow(/--budget-tokens must be a number/);
    expect(() => loadConfig({ env: {}, flags: { budgetTokens: '1e20' } })).toThrow(/--budget-tokens must be a positive integer up to/);
    const file = await configFile('{ "budgetMode": "Tokens" }');
    expect(() => loadConfig({ file, env: {} })).toThrow(/"budgetMode"\) must be one of time, tokens/);
    // a tokens-mode run has no duration to compare with: a 60 s timeout with a 300 s (unused) budget is fine
    const c = loadConfig({ env: {}, flags: { budgetMode: 'tokens', budget: '300', timeout: '60' } });
    expect(c.timeout).toBe(60);
    expect(() => loadConfig({ env: {}, flags: { budgetMode: 'time', budget: '300', timeout: '60' } })).toThrow(/must exceed the budget/);
  });
});
