import type { Hardware, WorkerDevice } from './types.js';

/**
 * The hardware class a result belongs to: the unit one experiment runs on, the accelerator model
 * without the box's count (a node runs one experiment per GPU). Only results of one class are ranked
 * against each other, and only a peer of the same class replicates a time-budget result.
 */
export function hardwareClass(hw: Hardware | null): string {
  return hw === null ? 'unknown' : hw.name;
}

/** The class with the count of its box beside it, for people: "NVIDIA H100 80GB HBM3 (box of 8)". */
export function hardwareLabel(hw: Hardware | null): string {
  if (hw === null) return 'unknown';
  return hw.device === 'cuda' && hw.count > 1 ? `${hw.name} (box of ${hw.count})` : hw.name;
}

/** A worker's device in a few words: "GPU 2", "CPU, 4 threads". */
export function deviceLabel(d: WorkerDevice): string {
  if (d.gpu) return `GPU ${d.gpu.index}`;
  return d.threads === null ? 'CPU' : `CPU, ${d.threads} thread${d.threads === 1 ? '' : 's'}`;
}
