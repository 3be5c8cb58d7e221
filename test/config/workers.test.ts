import { describe, expect, it } from 'vitest';
import { loadConfig, resolveWorkers } from '../../src/config/index.js';
import { ConfigError, deviceLabel, hardwareLabel, type Hardware } from '../../src/core/index.js';

const hw = (device: Hardware['device'], count = 1): Hardware => ({
  device, name: device === 'cuda' ? 'NVIDIA H100 80GB HBM3' : 'Intel Xeon', count, memoryGb: 80, torch: '2.5.0', cuda: null, python: '3.12',
});
const gpus = (n: number) => Array.from({ length: n }, (_, index) => ({ index, minor: n - 1 - index, uuid: `GPU-${index}` }));
const config = (flags: Record<string, unknown>) => loadConfig({ env: {}, flags });

describe('--gpus and --workers', () => {
  it('reads the GPU list and the worker count, refusing repeats, junk and zero', () => {
    expect(config({}).gpus).toBe('all');
    expect(config({}).workers).toBeNull();
    expect(config({ gpus: '0,2, 5' }).gpus).toEqual([0, 2, 5]);
    expect(loadConfig({ env: { SWARM_GPUS: '3' } }).gpus).toEqual([3]);
    expect(config({ workers: '4' }).workers).toBe(4);
    expect(() => config({ gpus: '0,0' })).toThrow(/--gpus names GPU 0 twice/);
    for (const bad of ['', 'one', '0,-1', '1.5', '0,,x']) expect(() => config({ gpus: bad }), bad).toThrow(ConfigError);
    expect(() => config({ workers: '0' })).toThrow(/--workers must be a positive integer/);
    expect(() => config({ workers: 'two' })).toThrow(ConfigError);
  });

  it('gives each chosen GPU a worker, and refuses GPUs the box does not have or a count that does not match', () => {
    const all = resolveWorkers(config({}), hw('cuda', 4), gpus(4), 32);
    expect(all.map((w) => [w.worker, w.gpu?.index, w.gpu?.minor, w.threads])).toEqual([[0, 0, 3, null], [1, 1, 2, null], [2, 2, 1, null], [3, 3, 0, null]]);
    const some = resolveWorkers(config({ gpus: '3,1' }), hw('cuda', 4), gpus(4), 32);
    expect(some.map((w) => [w.worker, w.gpu?.index])).toEqual([[0, 3], [1, 1]]);
    expect(some.map(deviceLabel)).toEqual(['GPU 3', 'GPU 1']);
    expect(resolveWorkers(config({ gpus: '0,1', workers: '2' }), hw('cuda', 4), gpus(4), 32)).toHaveLength(2);
    expect(() => resolveWorkers(config({ gpus: '9' }), hw('cuda', 2), gpus(2), 32)).toThrow(/names GPU 9, but this box has 2 GPUs \(indexes 0 to 1\)/);
    expect(() => resolveWorkers(config({ workers: '3' }), hw('cuda', 2), gpus(2), 32)).toThrow(/--workers 3 does not match the 2 GPUs chosen/);
    // Without the driver's listing (a container without /proc/driver/nvidia) the probe's count stands in.
    expect(resolveWorkers(config({}), hw('cuda', 2), [], 32).map((w) => w.gpu)).toEqual([{ index: 0, minor: 0, uuid: null }, { index: 1, minor: 1, uuid: null }]);
  });

  it('on a CPU, splits the cores between the workers and refuses --gpus', () => {
    expect(resolveWorkers(config({}), hw('cpu'), [], 8)).toEqual([{ worker: 0, gpu: null, threads: 8 }]);
    expect(resolveWorkers(config({ workers: '3' }), hw('cpu'), [], 8).map((w) => w.threads)).toEqual([2, 2, 2]);
    expect(resolveWorkers(config({ workers: '4' }), hw('cpu'), [], 2).map((w) => w.threads)).toEqual([1, 1, 1, 1]);
    expect(deviceLabel({ worker: 0, gpu: null, threads: 2 })).toBe('CPU, 2 threads');
    expect(() => resolveWorkers(config({ gpus: '0' }), hw('cpu'), [], 8)).toThrow(/--gpus 0 was given, but this box trains on cpu/);
  });

  it('names the class by the unit one experiment runs on, with the box\'s count beside it', () => {
    expect(hardwareLabel(hw('cuda', 8))).toBe('NVIDIA H100 80GB HBM3 (box of 8)');
    expect(hardwareLabel(hw('cuda', 1))).toBe('NVIDIA H100 80GB HBM3');
    expect(hardwareLabel(hw('cpu', 1))).toBe('Intel Xeon');
  });
});
