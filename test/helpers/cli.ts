import { execa, type ResultPromise } from 'execa';
import { CLI, PYTHON, STUB_TRAINER, TEST_CACHE } from './paths.js';

/** The CLI over the stub trainer, listening on loopback only, no dashboard (its own tests start one). */
export const STUB_ENV = { SWARM_TRAINER: STUB_TRAINER, SWARM_TRUST_HARNESS: '1', SWARM_CACHE: TEST_CACHE, SWARM_PYTHON: PYTHON, SWARM_LISTEN: '/ip4/127.0.0.1/tcp/0', SWARM_DASHBOARD: 'off' };

/** A `swarm` runner with this environment (added to STUB_ENV); never rejects, interleaves stdout and stderr in `all`. */
export function cli(env: Record<string, string>) {
  return (args: string[], extra: Record<string, string> = {}) =>
    execa('node', [CLI, ...args], { env: { ...STUB_ENV, ...env, ...extra }, reject: false, all: true });
}

/** Resolves once the running command has printed a line matching `pattern` (from now on). */
export function waitFor(proc: ResultPromise, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        proc.all?.off('data', onData);
        resolve();
      }
    };
    proc.all?.on('data', onData);
    proc.catch(() => {}).finally(() => reject(new Error(`exited before printing ${pattern}:\n${seen}`)));
  });
}
