import { ConfigError, type GpuUnit, type Hardware, type WorkerDevice } from '../core/index.js';
import type { NodeConfig } from './config.js';

/**
 * The node's workers, one experiment each at a time. CUDA: one worker per chosen GPU, which its runs
 * alone see; `workers` may only restate that count (two experiments on one GPU would time each other).
 * CPU and MPS: `workers` (default 1) share the box, each run with floor(cores / workers) threads.
 * `gpus` are the driver's GPUs (listGpus); empty when it lists none, then the probe's count stands in.
 */
export function resolveWorkers(
  config: Pick<NodeConfig, 'gpus' | 'workers'>, hardware: Hardware, gpus: readonly GpuUnit[], cores: number,
): WorkerDevice[] {
  if (hardware.device !== 'cuda') {
    if (config.gpus !== 'all') {
      throw new ConfigError(`--gpus ${config.gpus.join(',')} was given, but this box trains on ${hardware.device} (${hardware.name}), not CUDA`, {
        hint: 'leave out --gpus; on a CPU, --workers N runs N experiments at once',
      });
    }
    const n = config.workers ?? 1;
    const threads = Math.max(1, Math.floor(cores / n));
    return Array.from({ length: n }, (_, worker) => ({ worker, gpu: null, threads }));
  }
  const box = gpus.length > 0 ? gpus : Array.from({ length: hardware.count }, (_, index) => ({ index, minor: index, uuid: null }));
  const chosen = config.gpus === 'all' ? [...box] : config.gpus.map((i) => {
    const gpu = box.find((g) => g.index === i);
    if (!gpu) {
      throw new ConfigError(`--gpus names GPU ${i}, but this box has ${box.length} GPU${box.length === 1 ? '' : 's'} (indexes 0 to ${box.length - 1})`, {
        hint: '`nvidia-smi -L` lists them; or pass --gpus all',
      });
    }
    return gpu;
  });
  if (chosen.length === 0) throw new ConfigError('this box reports CUDA but no GPU', { hint: 'check `nvidia-smi -L` and the driver' });
  if (config.workers !== null && config.workers !== chosen.length) {
    throw new ConfigError(`--workers ${config.workers} does not match the ${chosen.length} GPU${chosen.length === 1 ? '' : 's'} chosen: on CUDA each worker has a GPU of its own`, {
      hint: 'choose the GPUs with --gpus (e.g. --gpus 0,1) and leave out --workers',
    });
  }
  return chosen.map((gpu, worker) => ({ worker, gpu, threads: null }));
}
