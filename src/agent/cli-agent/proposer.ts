/**
 * `--proposer agent`: each proposal is one headless call of the user's coding agent in a scratch folder.
 * The node takes back train.py's new text only; a call that hangs, fails, edits nothing or touches anything
 * else proposes nothing, and its record says why, with the time and cost it took.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseCommandString } from 'execa';
import { ProposalError, sourceHash, type AgentCall } from '../../core/index.js';
import type { AgentSettings, Proposal, ProposalContext, Proposer } from '../types.js';
import { customPreset, PRESETS, type CallPlan, type Preset } from './presets.js';
import { hypothesisOf } from './result.js';
import { runAgent, type RunResult } from './runner.js';
import { closeScratch, openScratch, readBounded, Refusal, takeBack, type Scratch } from './scratch.js';
import { swarmMd } from './swarm-md.js';
import { RULES, TASK } from './task.js';

/** Turns per Claude Code call: enough to read three files and edit one several times. */
const MAX_TURNS = 30;

/** Throws ProposalError('api') at once when the agent is unknown or not installed. */
export function agentProposer(settings: AgentSettings): Proposer {
  const preset = presetOf(settings);
  requireOnPath(preset.bin, preset.name);
  const name = `agent:${preset.name}${settings.model ? `:${settings.model}` : ''}`;
  return {
    name,
    async propose(ctx: ProposalContext): Promise<Proposal> {
      const scratch = await openScratch({ train: ctx.source, program: ctx.program, swarm: swarmMd(ctx), task: TASK });
      try {
        return await call(ctx, scratch);
      } finally {
        await closeScratch(scratch);
      }
    },
  };

  async function call(ctx: ProposalContext, scratch: Scratch): Promise<Proposal> {
    const p: CallPlan = {
      task: TASK, rules: RULES, dir: scratch.dir, taskFile: scratch.taskFile, outputFile: scratch.outputFile, logDir: scratch.logDir,
      maxTurns: MAX_TURNS, maxCostUsd: settings.maxCostUsd, ...(settings.model ? { model: settings.model } : {}),
    };
    const run = await runAgent(preset.bin, preset.args(p), {
      cwd: scratch.dir, env: preset.env?.(p) ?? {}, timeoutMs: settings.timeoutSeconds * 1000, maxCostUsd: settings.maxCostUsd,
      ...(ctx.signal ? { signal: ctx.signal } : {}), ...(preset.meter ? { meter: preset.meter() } : {}),
    });
    const report = preset.read({ stdout: run.stdout, lastMessage: await readBounded(scratch.outputFile) });
    const costUsd = report.costUsd ?? run.costSeen;
    const record = (outcome: AgentCall['outcome']): AgentCall => ({
      agent: preset.name, outcome, seconds: Math.round(run.seconds * 10) / 10, timeoutSeconds: settings.timeoutSeconds, costUsd, maxCostUsd: settings.maxCostUsd,
    });
    const fail = (kind: ProposalError['kind'], outcome: AgentCall['outcome'], why: string): never => {
      throw new ProposalError(kind, `${preset.name} ${printable(why)}`, { agent: record(outcome) });
    };
    const ended = endedEarly(run, settings, costUsd);
    if (ended) fail('api', ended.outcome, ended.why);
    if (report.overCost || (settings.maxCostUsd !== null && costUsd !== null && costUsd > settings.maxCostUsd)) {
      const stopped = report.overCost ? 'stopped at' : 'went past';
      fail('api', 'over-cost', `${stopped} its cost cap of $${settings.maxCostUsd ?? '?'} (reported $${costUsd?.toFixed(4) ?? '?'}); its edit is not used`);
    }
    let source: string;
    try {
      source = await takeBack(scratch);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      return fail('malformed', 'refused', `touched what it must not, so nothing it did is used: ${err.message}`);
    }
    if (report.error) fail('api', 'failed', `${report.error}${run.exitCode ? ` (exit code ${run.exitCode})` : ''}`);
    if (run.exitCode !== 0) fail('api', 'failed', `exited with code ${run.exitCode}${tail(run)}`);
    if (source === ctx.source) fail('no-apply', 'no-edit', `left train.py unchanged${report.message ? '' : ' and printed no message'}${tail(run)}`);
    const hash = sourceHash(source);
    if (ctx.tried.has(hash)) fail('exhausted', 'edited', `wrote a train.py that was already tried (sha256 ${hash.slice(0, 12)}…); not running it again`);
    const hypothesis = hypothesisOf(report.message) ?? `(no hypothesis given) ${printable(firstNewLine(ctx.source, source)).trim()}`;
    return { hypothesis, source, proposer: name, agent: record('edited') };
  }
}

function presetOf(settings: AgentSettings): Preset {
  if (settings.command !== null) return customPreset(parseCommandString(settings.command.trim()));
  const preset = settings.preset === null ? undefined : PRESETS.get(settings.preset);
  if (!preset) throw new ProposalError('api', `unknown coding agent "${settings.preset}"; known: ${[...PRESETS.keys()].join(', ')}, or --agent-cmd for any other`);
  return preset;
}

/** Ends the node imposed (time, abort, cost, output), or the agent that never started. */
function endedEarly(run: RunResult, settings: AgentSettings, costUsd: number | null): { outcome: AgentCall['outcome']; why: string } | null {
  switch (run.ended) {
    case 'timeout':
      return { outcome: 'timeout', why: `did not finish within ${settings.timeoutSeconds} s (its process group was killed)${tail(run)}` };
    case 'aborted':
      return { outcome: 'aborted', why: 'was stopped: the node is stopping' };
    case 'over-cost':
      return { outcome: 'over-cost', why: `passed its cost cap of $${settings.maxCostUsd} (reported $${costUsd?.toFixed(4)}); it was stopped and its edit is not used` };
    case 'output':
      return { outcome: 'failed', why: 'printed more output than the node reads (8 MiB); it was stopped' };
    case 'exit':
      return run.startError ? { outcome: 'failed', why: `could not be started: ${run.startError}` } : null;
  }
}

/** A reason quotes what the agent printed, and is shown on terminals: no control, bidi or invisible characters. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, ' ');
}

/** The last lines the agent printed, for a reason that shows what it said. */
function tail(run: RunResult): string {
  const text = (run.stderr.trim() || run.stdout.trim()).split('\n').slice(-3).join(' | ').replace(/\s+/g, ' ');
  if (text === '') return ' (it printed nothing)';
  return ` (it said: ${JSON.stringify(text.length > 200 ? `…${text.slice(-199)}` : text)})`;
}

/** A stand-in hypothesis: the first line the edit introduces. */
function firstNewLine(before: string, after: string): string {
  const old = new Set(before.split('\n').map((l) => l.trim()));
  return after.split('\n').map((l) => l.trim()).find((l) => l !== '' && !old.has(l))?.slice(0, 120) ?? '';
}

/** A missing agent is a setup problem: say so when the node starts, not at every proposal. */
function requireOnPath(executable: string, preset: string): void {
  const dirs = executable.includes('/') ? [''] : (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const d of dirs) {
    try {
      accessSync(d === '' ? executable : join(d, executable), constants.X_OK);
      return;
    } catch {
      // Not here.
    }
  }
  throw new ProposalError('api', `the coding agent "${executable}" is not on PATH`, {
    hint: preset === 'custom' ? 'check the first word of --agent-cmd' : `install ${executable} (docs/agents.md), or pass --agent-cmd for another agent`,
  });
}

