/**
 * The progress picture (the reference's progress.png): records become a plain plot spec
 * (spec.ts, pure), which matplotlib draws (progress.py, run by the project's Python).
 */
export { nodeSpec, swarmSpec, selfPeer, type PlotSpec, type PlotPoint, type PlotSeries, type PlotAxis, type PointStatus, type SpecOptions } from './spec.js';
export { renderPlot, checkPlottable, PlotError } from './render.js';
