/**
 * The coding agents the node runs headless, one preset each: the exact command line (docs/agents.md names
 * the documentation of every flag) and how to read what the agent prints. The node alone builds these
 * command lines; nothing from SWARM.md, peers or the agent reaches them.
 */
import { readAider, readClaude, readCodex, readOpencode, readPlain, type Report } from './result.js';

/** What one call is given: the node's task text and the paths of the scratch folder (scratch.ts). */
export interface CallPlan {
  /** The task: fixed text written by the node (prompt text from peers lives only in SWARM.md). */
  task: string;
  /** The rules of the call, for agents that take an extra system prompt. */
  rules: string;
  /** The folder the agent works in: train.py, program.md, SWARM.md. */
  dir: string;
  /** Outside `dir`: the task as a file, where the agent writes its last message, its own logs. */
  taskFile: string;
  outputFile: string;
  logDir: string;
  maxTurns: number;
  maxCostUsd: number | null;
  model?: string;
}

/** What the agent left behind for the reader: its output, and its last message where it writes one to a file. */
export interface CallOutput {
  stdout: string;
  lastMessage: string | null;
}

export interface Preset {
  name: string;
  /** The program, looked up on PATH. */
  bin: string;
  /** Its arguments; run without a shell, stdin from /dev/null. */
  args(plan: CallPlan): string[];
  /** Extra environment of the call. */
  env?(plan: CallPlan): Record<string, string>;
  /** A fresh meter of the cost reported so far, fed each output line; for agents that report cost while they run. */
  meter?(): (line: string) => number | null;
  read(out: CallOutput): Report;
}

/**
 * Claude Code gets two tools, Read and Edit, and in dontAsk mode only what the allow rules name runs: reading in
 * its folder, editing train.py (`//` starts an absolute path in a rule). Bash, the web tools, sub-agents and
 * notebooks are also denied by name, and MCP servers are off (--strict-mcp-config with no --mcp-config).
 */
const CLAUDE_DENIED = 'Bash,WebFetch,WebSearch,Task,NotebookEdit,Write';

const claude: Preset = {
  name: 'claude',
  bin: 'claude',
  args: (p) => [
    '-p', p.task,
    '--output-format', 'json',
    '--permission-mode', 'dontAsk',
    '--tools', 'Read,Edit',
    '--allowedTools', `Read(/${p.dir}/**),Edit(/${p.dir}/train.py)`,
    '--disallowedTools', CLAUDE_DENIED,
    '--strict-mcp-config',
    // The user's own settings could allow more (an allow rule for Read or Bash); the auto-memory folder
    // in HOME is writable even in dontAsk mode, so it moves beside the node's logs; no transcript in HOME.
    '--setting-sources', '',
    '--settings', JSON.stringify({ autoMemoryDirectory: `${p.logDir}/memory` }),
    '--no-session-persistence',
    '--append-system-prompt', p.rules,
    '--max-turns', String(p.maxTurns),
    ...(p.maxCostUsd !== null ? ['--max-budget-usd', String(p.maxCostUsd)] : []),
    ...(p.model ? ['--model', p.model] : []),
  ],
  read: (out) => readClaude(out.stdout),
};

const codex: Preset = {
  name: 'codex',
  bin: 'codex',
  args: (p) => [
    'exec',
    '--sandbox', 'workspace-write',
    '-c', 'sandbox_workspace_write.network_access=false',
    '-c', 'web_search="disabled"',
    '-c', 'features.shell_tool=false',
    '--skip-git-repo-check', '--ephemeral',
    '-C', p.dir,
    '--json', '-o', p.outputFile,
    ...(p.model ? ['-m', p.model] : []),
    p.task,
  ],
  read: (out) => readCodex(out.stdout, out.lastMessage),
};

const aider: Preset = {
  name: 'aider',
  bin: 'aider',
  args: (p) => [
    '--message-file', p.taskFile,
    '--yes-always', '--no-auto-commits', '--no-git',
    '--no-suggest-shell-commands', '--no-detect-urls',
    '--no-check-update', '--analytics-disable', '--no-pretty', '--no-stream',
    // Aider's own files go outside the folder: no repo map cache, histories beside the task file.
    '--map-tokens', '0',
    '--input-history-file', `${p.logDir}/aider.input.history`,
    '--chat-history-file', `${p.logDir}/aider.chat.history.md`,
    '--read', 'program.md', '--read', 'SWARM.md',
    ...(p.model ? ['--model', p.model] : []),
    'train.py',
  ],
  // Aider prints "Cost: $0.0012 message, $0.0345 session." after every reply.
  meter: () => (line) => {
    const m = /Cost: \$([\d.]+) message, \$([\d.]+) session/.exec(line);
    return m ? Number(m[2]) : null;
  },
  read: (out) => readAider(out.stdout),
};

/**
 * opencode takes its permissions from config; OPENCODE_CONFIG_CONTENT is loaded last, over the user's own
 * and any project file. Unlisted tools are denied; the folder's train.py is the only thing it may edit.
 */
const OPENCODE_PERMISSIONS = {
  permission: {
    '*': 'deny', read: 'allow', glob: 'allow', grep: 'allow', list: 'allow', edit: 'allow',
    bash: 'deny', webfetch: 'deny', websearch: 'deny', task: 'deny', external_directory: 'deny',
  },
};

const opencode: Preset = {
  name: 'opencode',
  bin: 'opencode',
  args: (p) => ['run', '--format', 'json', ...(p.model ? ['--model', p.model] : []), p.task],
  env: () => ({ OPENCODE_CONFIG_CONTENT: JSON.stringify(OPENCODE_PERMISSIONS) }),
  // Every finished step reports its own cost.
  meter: () => {
    let total = 0;
    return (line) => {
      const cost = stepCost(line);
      if (cost === null) return null;
      total += cost;
      return total;
    };
  },
  read: (out) => readOpencode(out.stdout),
};

function stepCost(line: string): number | null {
  if (!line.includes('"step_finish"')) return null;
  try {
    const e = JSON.parse(line) as { type?: unknown; part?: { cost?: unknown } };
    return e.type === 'step_finish' && typeof e.part?.cost === 'number' && Number.isFinite(e.part.cost) ? e.part.cost : null;
  } catch {
    return null;
  }
}

export const PRESETS: ReadonlyMap<string, Preset> = new Map([claude, codex, aider, opencode].map((p) => [p.name, p]));
export const PRESET_NAMES: readonly string[] = [...PRESETS.keys()];

/** --agent-cmd's placeholders: each stands for exactly one argument. */
export const PLACEHOLDERS = ['{prompt}', '{prompt_file}', '{dir}', '{train_py}'] as const;

/**
 * A preset for --agent-cmd: the template split into arguments first (execa's parser: spaces separate,
 * a backslash escapes a space), then each placeholder replaced inside its own argument, so the task text
 * can never become extra arguments. Its output is read as plain text, with no cost.
 */
export function customPreset(words: readonly string[]): Preset {
  const [bin = '', ...rest] = words;
  return {
    name: 'custom',
    bin,
    args: (p) => rest.map((w) => w
      .replaceAll('{prompt_file}', p.taskFile)
      .replaceAll('{train_py}', `${p.dir}/train.py`)
      .replaceAll('{dir}', p.dir)
      .replaceAll('{prompt}', p.task)),
    read: (out) => readPlain(out.stdout),
  };
}
