#!/usr/bin/env node
// Runs the real `swarm demo` (real trainer, default demo settings) for up to N minutes and reports
// when each of share / skip / rebase / replicate first happened, as the demo itself announced it.
// Usage: npm run build && node scripts/bench-demo.mjs [minutes=10] [-- extra join flags]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const minutes = Number((dash === -1 ? args : args.slice(0, dash))[0] ?? 10);
const extra = dash === -1 ? [] : args.slice(dash + 1);
const dir = join(mkdtempSync(join(tmpdir(), 'swarm-bench-demo-')), 'demo');
const cli = resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const logPath = `${dir}.log`;

const started = Date.now();
const load = loadavg().map((l) => l.toFixed(1)).join(' ');
const since = () => (Date.now() - started) / 1000;
const KINDS = ['share', 'skip', 'rebase', 'replicate'];
/** What was first seen when: the four kinds, and run-N for node N's first finished run. */
const firsts = new Map();
let log = '';
let stopping = false;

const demo = spawn(process.execPath, [cli, 'demo', '--dir', dir, ...(extra.length ? ['--', ...extra] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
const stop = (why) => {
  if (stopping) return;
  stopping = true;
  console.error(`bench: ${why} at ${since().toFixed(0)} s; stopping the demo`);
  demo.kill('SIGINT');
};
let pending = '';
const onData = (chunk) => {
  pending += chunk.toString();
  const lines = pending.split('\n');
  pending = lines.pop();
  for (const line of lines) {
    log += `${since().toFixed(1).padStart(6)} ${line}\n`;
    const m = /^demo +│ (\S+) first (share|skip|rebase|replicate): (.*)$/.exec(line);
    if (m && !firsts.has(m[2])) {
      firsts.set(m[2], { seen: since(), clock: m[1], text: m[3] });
      console.error(`bench: ${m[2]} at ${since().toFixed(0)} s (${m[1]}): ${m[3]}`);
      if (KINDS.every((k) => firsts.has(k))) stop('all four seen');
    }
    const first = /node-(\d) +│ \S+ #(\d+) (KEEP|DISCARD|CRASH)/.exec(line);
    if (first && !firsts.has(`run-${first[1]}`)) firsts.set(`run-${first[1]}`, { seen: since() });
  }
};
demo.stdout.on('data', onData);
demo.stderr.on('data', onData);
const timer = setTimeout(() => stop(`${minutes} minutes passed`), minutes * 60_000);
const code = await new Promise((done) => demo.on('exit', (c) => done(c)));
clearTimeout(timer);
writeFileSync(logPath, log);

const row = (k) => {
  const f = firsts.get(k);
  return `| ${k} | ${f ? `${(f.seen / 60).toFixed(1)} min (${f.seen.toFixed(0)} s)` : 'not within the run'} | ${f?.text ?? ''} |`;
};
console.log(`\nswarm demo, real trainer, ${availableParallelism()} cores, load average at start ${load}, end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`extra join flags: ${extra.join(' ') || 'none'}; demo exit code ${code}; full log ${logPath}; state ${dir}\n`);
console.log('| what | first seen after start | what the demo printed |');
console.log('| --- | --- | --- |');
for (const k of ['run-1', 'run-2', 'run-3', ...KINDS]) console.log(row(k));
const summary = log.split('\n').filter((l) => /demo +│ +(node-\d:|all nodes stopped)/.test(l)).map((l) => l.replace(/^ *[\d.]+ /, ''));
console.log(`\n${summary.join('\n')}`);
