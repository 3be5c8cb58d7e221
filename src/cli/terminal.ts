import type { Logger } from '../core/index.js';
import type { LoopEvent } from '../loop/index.js';
import { workersLine } from './format.js';
import type { WorkerStatus } from './live.js';

/**
 * Shows what the node does. In a terminal: log lines above one live line (the run in flight,
 * elapsed time, budget, loss; every busy worker's, when there are several). Elsewhere (a pipe, a log file): plain timestamped lines only.
 */
export function terminal(workers: () => WorkerStatus[], out: NodeJS.WriteStream = process.stderr) {
  const tty = out.isTTY === true;
  let drawn = false;
  let lastDraw = 0;

  const clear = () => {
    if (drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = () => {
    if (!tty) return;
    const line = workersLine(workers());
    if (line === null) return;
    out.write('\r\x1b[2K' + line.slice(0, Math.max(20, (out.columns ?? 100) - 1)));
    drawn = true;
    lastDraw = Date.now();
  };
  const print = (level: string, message: string) => {
    clear();
    const stamp = new Date().toISOString().slice(11, 19);
    out.write(`${stamp} ${level}${message}\n`);
    draw();
  };

  const log: Logger = {
    info: (m) => print('', m),
    warn: (m) => print('warning: ', m),
    error: (m) => print('error: ', m),
  };

  /** Call after the live tracker has seen the event. */
  function onEvent(e: LoopEvent): void {
    if (e.type === 'start' || e.type === 'run') draw();
    else if (e.type === 'progress' && Date.now() - lastDraw > 200) draw();
    else if (e.type === 'finish') {
      const r = e.record;
      const bpb = r.metrics ? ` val_bpb ${r.metrics.val_bpb.toFixed(6)}` : '';
      const why = r.reason ? ` (${r.reason})` : '';
      // invalid and skipped candidates are logged by the loop itself
      if (r.status !== 'invalid' && r.status !== 'skip') print('', `#${r.seq} ${r.status.toUpperCase()}${bpb}${why}`);
    } else if (e.type === 'ran') {
      clear();
    }
  }

  return { log, onEvent, close: clear };
}
