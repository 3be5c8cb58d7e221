/**
 * The page's files, served by the node itself (offline, no CDN): the HTML, script and style in
 * ./static next to this part's sources, and uPlot from its npm package.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwarmError } from '../core/index.js';

/** The dashboard cannot find a file it serves (an incomplete install). */
export class DashboardError extends SwarmError {}

export interface Asset { type: string; body: Buffer }

// Works from src/dashboard (tests, tsx) and from dist/dashboard (the built CLI): both are two levels below the root.
const STATIC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'dashboard', 'static');

function uplotDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  } catch (err) {
    throw new DashboardError('the dashboard needs the uplot package, which is not installed', { hint: 'run `npm install` in the swarm checkout', cause: err });
  }
}

/** Reads every asset once, at start: a missing file is found now, not by the first visitor. */
export function loadAssets(): Map<string, Asset> {
  const uplot = uplotDir();
  const files: [string, string, string][] = [
    ['/', join(STATIC, 'index.html'), 'text/html; charset=utf-8'],
    ['/app.js', join(STATIC, 'app.js'), 'text/javascript; charset=utf-8'],
    ['/app.css', join(STATIC, 'app.css'), 'text/css; charset=utf-8'],
    ['/vendor/uPlot.iife.min.js', join(uplot, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/vendor/uPlot.min.css', join(uplot, 'uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  const assets = new Map<string, Asset>();
  for (const [route, path, type] of files) {
    try {
      assets.set(route, { type, body: readFileSync(path) });
    } catch (err) {
      throw new DashboardError(`the dashboard cannot read ${path}`, { hint: 'the checkout is incomplete: restore it with git, then `npm install`', cause: err });
    }
  }
  return assets;
}
