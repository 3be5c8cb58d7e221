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

  it('defaults claude to a model and refuses a timeout inside the budget', () => {
    expect(loadConfig({ env: {}, flags: { proposer: 'claude' } }).model).toBe('claude-sonnet-4-5');
    expect(() => loadConfig({ env: {}, flags: { budget: '60', timeout: '30' } })).toThrow(/must exceed the budget/);
  });
});
