import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/core/index.js';

const flags = (f: Record<string, unknown>) => loadConfig({ flags: f, env: {}, cwd: '/' });

describe('config of the coding-agent proposer', () => {
  it('reads the agent, its caps and a command template from flags, the environment and the config file', async () => {
    const c = flags({ proposer: 'agent', agent: 'claude', agentTimeout: '300', agentMaxCost: '0.75' });
    expect(c).toMatchObject({ proposer: 'agent', agent: 'claude', agentCmd: null, agentTimeout: 300, agentMaxCost: 0.75 });
    expect(flags({ proposer: 'agent', agent: 'codex' })).toMatchObject({ agentTimeout: 600, agentMaxCost: null, model: null });

    const env = loadConfig({ env: { SWARM_PROPOSER: 'agent', SWARM_AGENT_CMD: 'mytool --task {prompt_file} --in {dir}' }, cwd: '/' });
    expect(env).toMatchObject({ agent: null, agentCmd: 'mytool --task {prompt_file} --in {dir}' });

    const dir = await mkdtemp(join(tmpdir(), 'swarm-config-'));
    const file = join(dir, 'swarm.config.json');
    await writeFile(file, JSON.stringify({ proposer: 'agent', agent: 'opencode', agentTimeout: 120, agentMaxCost: 2 }));
    expect(loadConfig({ file, env: {} })).toMatchObject({ agent: 'opencode', agentTimeout: 120, agentMaxCost: 2 });
  });

  it('says what is wrong with a broken agent setup and how to fix it', () => {
    const fails = (f: Record<string, unknown>, message: RegExp, hint?: RegExp) => {
      let err: unknown;
      try {
        flags(f);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(message);
      if (hint) expect((err as ConfigError).hint).toMatch(hint);
    };
    fails({ proposer: 'agent' }, /the agent proposer needs a coding agent/, /--agent claude\|codex\|aider\|opencode/);
    fails({ proposer: 'agent', agent: 'cursor' }, /--agent must be one of claude, codex, aider, opencode, got "cursor"/);
    fails({ proposer: 'agent', agent: 'claude', agentCmd: 'x {prompt}' }, /both --agent and --agent-cmd are set/);
    fails({ agent: 'claude' }, /choose the coding agent of --proposer agent, but the proposer is mutate/, /--proposer agent/);
    fails({ proposer: 'agent', agentCmd: 'mytool --go' }, /--agent-cmd must pass the task to the agent with \{prompt\} or \{prompt_file\}/);
    fails({ proposer: 'agent', agentCmd: 'mytool {prompt} {workdir}' }, /--agent-cmd has unknown placeholder\(s\) \{workdir\}/, /\{prompt\}, \{prompt_file\}, \{dir\}, \{train_py\}/);
    fails({ proposer: 'agent', agent: 'claude', agentTimeout: '0' }, /--agent-timeout must be a positive number/);
    fails({ proposer: 'agent', agent: 'claude', agentMaxCost: 'lots' }, /--agent-max-cost must be a number/);
  });
});
