/** Draws a plot spec with matplotlib: src/plot/progress.py, run by the project's Python, spec on stdin. */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { SwarmError } from '../core/index.js';
import type { PlotSpec } from './spec.js';

/** The progress picture cannot be drawn: nothing to plot, no matplotlib, an unwritable output. */
export class PlotError extends SwarmError {}

/** Found from src/ or from the compiled dist/ (both sit two levels under the repo). */
const SCRIPT = fileURLToPath(new URL('../../src/plot/progress.py', import.meta.url));

// progress.py's exit codes for the failures a user can fix.
const NO_MATPLOTLIB = 3;
const CANNOT_WRITE = 4;

/** Refuses a spec without a single val_bpb, in one line (`where` names the state folder or the swarm). */
export function checkPlottable(spec: PlotSpec, where: string): void {
  if (spec.points.length === 0) throw new PlotError(`nothing to plot: no experiment has finished ${where} yet`);
  if (spec.points.every((p) => p.y === null)) {
    throw new PlotError(`nothing to plot: all ${spec.points.length} finished experiments ${where} crashed (no val_bpb); see \`npx swarm log\``);
  }
}

/** Writes the picture to `out` (PNG, or SVG/PDF by its extension); returns progress.py's summary line. */
export async function renderPlot(spec: PlotSpec, opts: { out: string; python: string }): Promise<string> {
  const r = await execa(opts.python, [SCRIPT, opts.out], {
    input: JSON.stringify(spec), reject: false, timeout: 120_000,
    // Agg draws without a display; MPLBACKEND covers any import before progress.py picks it.
    env: { MPLBACKEND: 'Agg' },
  });
  const err = String(r.stderr ?? '').trim().split('\n').pop() ?? '';
  if ((r as { code?: string }).code === 'ENOENT') {
    throw new PlotError(`no Python at ${opts.python}`, { hint: 'run `bash scripts/setup.sh`, or point SWARM_PYTHON at a Python with matplotlib' });
  }
  if (r.exitCode === NO_MATPLOTLIB) {
    throw new PlotError(`matplotlib is not installed for ${opts.python}`, { hint: 'run `bash scripts/setup.sh` (it installs matplotlib into .venv)' });
  }
  if (r.exitCode === CANNOT_WRITE) throw new PlotError(`cannot write ${opts.out}: ${err}`, { hint: 'choose a writable file with -o FILE' });
  if (r.exitCode !== 0) {
    throw new PlotError(`drawing the plot failed: ${err || r.shortMessage}`, { hint: 'run `bash scripts/setup.sh` to repair the Python environment' });
  }
  return String(r.stdout).trim().split('\n').pop() ?? '';
}
