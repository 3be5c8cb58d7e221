import type { Hardware } from './types.js';

/**
 * The hardware class a result belongs to: accelerator model and count. Only results of one class
 * are ranked against each other, and only a peer of the same class replicates a time-budget result.
 */
export function hardwareClass(hw: Hardware | null): string {
  if (hw === null) return 'unknown';
  return hw.count > 1 ? `${hw.count}× ${hw.name}` : hw.name;
}
