import type { LiveStatus } from '../control/index.js';
import type { Logger } from '../core/index.js';
import type { LoopEvent } from '../loop/index.js';
import { liveLine } from './format.js';

/**
 * Shows what the node does. In a terminal: log lines above one live line (experiment, hypothesis,
 * elapsed time, budget, loss). Elsewhere (a pipe, a log file): plain timestamped lines only.
 * `budget` is the budget in its mode ("300 s", "2M tokens"), shown as it is.
 */
export function terminal(budget: string, out: NodeJS.WriteStream = process.stderr) {
  const tty = out.isTTY === true;
  let current: LiveStatus['current'] = null;
  let drawn = false;
  let lastDraw = 0;

  const clear = () => {
    if (drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = () => {
    if (!tty || current === null) return;
    const line = liveLine(current);
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

  function onEvent(e: LoopEvent): void {
    if (e.type === 'start') {
      current = { seq: e.record.seq, hypothesis: e.record.hypothesis, step: null, loss: null, elapsedSeconds: 0, budget };
      draw();
    } else if (e.type === 'progress' && current && current.seq === e.seq) {
      current = { ...current, step: e.step, loss: e.loss, elapsedSeconds: e.elapsedSeconds };
      if (Date.now() - lastDraw > 200) draw();
    } else if (e.type === 'finish') {
      const r = e.record;
      if (current?.seq === r.seq) current = null;
      const bpb = r.metrics ? ` val_bpb ${r.metrics.val_bpb.toFixed(6)}` : '';
      const why = r.reason ? ` (${r.reason})` : '';
      if (r.status !== 'invalid') print('', `#${r.seq} ${r.status.toUpperCase()}${bpb}${why}`);
    }
  }

  return { log, onEvent, current: () => current, close: clear };
}
