import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpuDevices, listGpus } from '../../src/sandbox/index.js';

const DEV = ['null', 'nvidia0', 'nvidia1', 'nvidia10', 'nvidia2', 'nvidiactl', 'nvidia-uvm', 'nvidia-uvm-tools', 'nvidia-modeset', 'nvidia-caps', 'dri', 'kfd', 'sda', 'tty'];

describe('the GPU device nodes a run gets', () => {
  it('binds only the run\'s own /dev/nvidiaN, with the shared nodes CUDA needs', () => {
    expect(gpuDevices([1], DEV)).toEqual([
      '/dev/dri', '/dev/kfd', '/dev/nvidia-caps', '/dev/nvidia-modeset', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia1', '/dev/nvidiactl',
    ]);
    // nvidia1 is not a prefix match for nvidia10.
    expect(gpuDevices([10], DEV).filter((d) => /nvidia\d/.test(d))).toEqual(['/dev/nvidia10']);
    // Without a choice (one worker on the whole box, as before) every GPU node is bound; a box without GPUs gets nothing.
    expect(gpuDevices(undefined, DEV).filter((d) => /nvidia\d/.test(d))).toEqual(['/dev/nvidia0', '/dev/nvidia1', '/dev/nvidia10', '/dev/nvidia2']);
    expect(gpuDevices([0], ['null', 'sda'])).toEqual([]);
  });

  it('lists the driver\'s GPUs in PCI order with their device minor and UUID', async () => {
    const root = await mkdtemp(join(tmpdir(), 'swarm-gpus-'));
    try {
      const gpu = async (bus: string, minor: number, uuid: string | null) => {
        await mkdir(join(root, bus));
        await writeFile(join(root, bus, 'information'), [
          'Model: \t\t NVIDIA H100 80GB HBM3', 'IRQ:   \t\t 0', ...(uuid ? [`GPU UUID: \t ${uuid}`] : []),
          'Bus Type: \t PCIe', `Bus Location: \t ${bus}`, `Device Minor: \t ${minor}`, 'GPU Excluded:\t No', '',
        ].join('\n'));
      };
      // Minors need not follow the bus order; the index is nvidia-smi's (PCI order).
      await gpu('0000:b3:00.0', 0, 'GPU-11111111-2222-3333-4444-555555555555');
      await gpu('0000:18:00.0', 3, null);
      await mkdir(join(root, '0000:ff:00.0')); // no information file: not listed
      expect(listGpus(root)).toEqual([
        { index: 0, minor: 3, uuid: null },
        { index: 1, minor: 0, uuid: 'GPU-11111111-2222-3333-4444-555555555555' },
      ]);
      expect(listGpus(join(root, 'missing'))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
