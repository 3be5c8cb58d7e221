/** The box's NVIDIA GPUs and their device nodes, so a run can be given one GPU and no other. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GpuUnit } from '../core/index.js';

const PROC_GPUS = '/proc/driver/nvidia/gpus';

/**
 * NVIDIA and DRM device nodes present on the host (empty on a box without a GPU). With `minors`, of
 * the per-GPU nodes /dev/nvidia<N> only those are kept; the shared ones (nvidiactl, nvidia-uvm*,
 * nvidia-modeset, nvidia-caps, dri, kfd) stay, since CUDA needs them whatever the GPU.
 */
export function gpuDevices(minors?: readonly number[], names: readonly string[] = devNames()): string[] {
  const mine = (n: string) => {
    const m = /^nvidia(\d+)$/.exec(n);
    return m === null || minors === undefined || minors.includes(Number(m[1]));
  };
  return names.filter((n) => (/^nvidia/.test(n) && mine(n)) || n === 'dri' || n === 'kfd').sort().map((n) => `/dev/${n}`);
}

function devNames(): string[] {
  try {
    return readdirSync('/dev');
  } catch {
    return [];
  }
}

/**
 * The GPUs the NVIDIA driver reports, in PCI bus order (nvidia-smi's index): one folder per GPU named
 * by its bus id, whose `information` file gives `Device Minor` and `GPU UUID`. Empty without the driver.
 */
export function listGpus(root: string = PROC_GPUS): GpuUnit[] {
  let buses: string[];
  try {
    buses = readdirSync(root).sort();
  } catch {
    return [];
  }
  const gpus: GpuUnit[] = [];
  for (const bus of buses) {
    let info: string;
    try {
      info = readFileSync(join(root, bus, 'information'), 'utf8');
    } catch {
      continue;
    }
    const minor = /^Device Minor:\s*(\d+)\s*$/m.exec(info);
    if (!minor) continue;
    const uuid = /^GPU UUID:\s*(GPU-[0-9a-fA-F-]+)\s*$/m.exec(info);
    gpus.push({ index: gpus.length, minor: Number(minor[1]), uuid: uuid ? uuid[1]! : null });
  }
  return gpus;
}
