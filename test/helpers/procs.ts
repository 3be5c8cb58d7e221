import { readFileSync } from 'node:fs';

/** Running, and not a zombie waiting for a parent to reap it (a container's PID 1 may never). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves once `pid` is gone; throws if it still runs 3 s later. */
export async function gone(pid: number): Promise<void> {
  const end = Date.now() + 3_000;
  while (alive(pid)) {
    if (Date.now() > end) throw new Error(`process ${pid} still running 3 s after the call ended`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
