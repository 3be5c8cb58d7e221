import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CPU_BUDGET_TOKENS, DEFAULT_BUDGET_TOKENS, loadConfig, resolveBudget } from '../../src/config/index.js';
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
    expect(c.budgetMode).toBe('time');
    expect(resolveBudget(c, 'cpu').timeout).toBe(130);
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
    expect(c).toMatchObject({ noiseRuns: 2, noiseEvery: 50, noiseK: 2, replicas: 2, runPolicy: 'all', allowlist: [] });
    const peer = '12D3KooWGzh8Jd3xh3TD9PcWhTXiDrxXXNdS6HXNeEKhqjrByfz6';
    const file = await configFile(JSON.stringify({ runPolicy: 'allowlist', allowlist: [peer], noiseRuns: 0 }));
    expect(loadConfig({ file, env: { SWARM_REPLICAS: '0' } })).toMatchObject({ runPolicy: 'allowlist', allowlist: [peer], noiseRuns: 0, replicas: 0 });
    expect(() => loadConfig({ env: { SWARM_RUN_POLICY: 'some' } })).toThrow(/SWARM_RUN_POLICY must be one of all, verified, allowlist, none/);
    // one re-run and the best's own run make two samples: enough for σ
    expect(loadConfig({ env: {}, flags: { noiseRuns: '1' } }).noiseRuns).toBe(1);
    expect(() => loadConfig({ env: {}, flags: { allowlist: `${peer},not-a-peer` } })).toThrow(/--allowlist must be a list of peer ids.*not-a-peer/);
    expect(() => loadConfig({ env: { SWARM_NOISE_K: '-1' } })).toThrow(/SWARM_NOISE_K must be zero or a positive number/);
  });

  it('defaults claude to a model and refuses a timeout inside the budget', () => {
    expect(loadConfig({ env: {}, flags: { proposer: 'claude' } }).model).toBe('claude-sonnet-4-5');
    expect(() => loadConfig({ env: {}, flags: { budget: '60', timeout: '30' } })).toThrow(/must exceed the budget/);
  });

  it('picks the budget for the box: tokens on a CPU, the reference 300 s on a GPU, unless a mode or an amount is given', async () => {
    const d = loadConfig({ env: {} });
    expect([d.budgetMode, d.budgetTokens, d.timeout, d.seed]).toEqual(['auto', null, null, null]);
    const cpu = resolveBudget(d, 'cpu');
    expect([cpu.budgetMode, cpu.budgetTokens, cpu.timeout]).toEqual(['tokens', CPU_BUDGET_TOKENS, 600]);
    const gpu = resolveBudget(d, 'cuda');
    expect([gpu.budgetMode, gpu.budget, gpu.timeout]).toEqual(['time', 300, 600]);
    // an amount given in seconds means time, one in tokens means tokens; both without a mode is ambiguous
    expect(resolveBudget(loadConfig({ env: {}, flags: { budget: '30' } }), 'cpu')).toMatchObject({ budgetMode: 'time', budget: 30, timeout: 150 });
    expect(resolveBudget(loadConfig({ env: {}, flags: { budgetTokens: '5e6' } }), 'cuda')).toMatchObject({ budgetMode: 'tokens', budgetTokens: 5_000_000, timeout: 3600 });
    expect(() => loadConfig({ env: { SWARM_BUDGET: '30' }, flags: { budgetTokens: '5e6' } })).toThrow(/no budget mode says which one counts/);
    const file = await configFile(JSON.stringify({ budgetMode: 'tokens', budgetTokens: 500_000 }));
    const f = resolveBudget(loadConfig({ file, env: {} }), 'cpu');
    expect([f.budgetMode, f.budgetTokens, f.timeout]).toEqual(['tokens', 500_000, 1000]);
    const e = resolveBudget(loadConfig({ file, env: { SWARM_BUDGET_MODE: 'time', SWARM_BUDGET_TOKENS: '123' } }), 'cpu');
    expect([e.budgetMode, e.budgetTokens, e.timeout]).toEqual(['time', 123, 600]);
    const g = resolveBudget(loadConfig({ file, env: { SWARM_BUDGET_TOKENS: '123' }, flags: { budgetTokens: '2e6', timeout: '90' } }), 'cpu');
    expect([g.budgetMode, g.budgetTokens, g.timeout]).toEqual(['tokens', 2_000_000, 90]);
    expect(resolveBudget(loadConfig({ env: {}, flags: { budgetMode: 'tokens' } }), 'cuda').budgetTokens).toBe(DEFAULT_BUDGET_TOKENS);
  });

  it('reads the dashboard address and refuses a malformed one', () => {
    expect(loadConfig({ env: {} }).dashboard).toBe('127.0.0.1:8470');
    expect(loadConfig({ env: { SWARM_DASHBOARD: 'off' } }).dashboard).toBe('off');
    expect(loadConfig({ env: {}, flags: { dashboard: '[::1]:0' } }).dashboard).toBe('[::1]:0');
    expect(() => loadConfig({ env: {}, flags: { dashboard: 'localhost' } })).toThrow(/--dashboard must be 'off' or HOST:PORT/);
    expect(() => loadConfig({ env: {}, flags: { dashboard: '127.0.0.1:99999' } })).toThrow(/--dashboard must be/);
  });

  it('refuses bad budget modes and token budgets; the timeout-vs-budget check is for time mode only', async () => {
    expect(() => loadConfig({ env: { SWARM_BUDGET_MODE: 'steps' } })).toThrow(/SWARM_BUDGET_MODE must be one of auto, time, tokens, got "steps"/);
    expect(() => loadConfig({ env: { SWARM_BUDGET_TOKENS: '0' } })).toThrow(/SWARM_BUDGET_TOKENS must be a positive integer/);
    expect(() => loadConfig({ env: {}, flags: { budgetTokens: '1.5' } })).toThrow(/--budget-tokens must be an integer/);
    expect(() => loadConfig({ env: {}, flags: { budgetTokens: 'lots' } })).toThrow(/--budget-tokens must be a number/);
    expect(() => loadConfig({ env: {}, flags: { budgetTokens: '1e20' } })).toThrow(/--budget-tokens must be a positive integer up to/);
    const file = await configFile('{ "budgetMode": "Tokens" }');
    expect(() => loadConfig({ file, env: {} })).toThrow(/"budgetMode"\) must be one of auto, time, tokens/);
    // a tokens-mode run has no duration to compare with: a 60 s timeout with a 300 s (unused) budget is fine
    const c = resolveBudget(loadConfig({ env: {}, flags: { budgetMode: 'tokens', budget: '300', timeout: '60' } }), 'cpu');
    expect(c.timeout).toBe(60);
    expect(() => loadConfig({ env: {}, flags: { budgetMode: 'time', budget: '300', timeout: '60' } })).toThrow(/must exceed the budget/);
  });
});
