/**
 * The data a run may see. The node builds the cache itself (`prepare.py manifest`: trusted harness
 * code, outside any run), which checks every file against the sha256 recorded at build time. Runs
 * then get read-only views of single files: training sees train and dev, the harness's evaluation
 * sees val. No run sees another split, the raw texts, or anything it could write.
 */
import path from 'node:path';
import { execa } from 'execa';
import { TrainerError } from '../core/index.js';
import { lastExceptionLine } from './parse.js';

/** Where the data view is mounted inside the fence (the cache's own path stays hidden). */
export const DATA_MOUNT = '/swarm/data';

export type Phase = 'train' | 'eval';
const VIEW: Record<Phase, readonly string[]> = {
  train: ['meta.json', 'tokenizer.json', 'train.bin', 'dev.bin'],
  eval: ['meta.json', 'tokenizer.json', 'val.bin'],
};

/** The cache of one dataset and tokenizer, as `prepare.py manifest` reported it. */
export interface DataManifest {
  /** `<cache>/<dataset>/<tokenizer kind>`. */
  dir: string;
  /** File name → sha256, as recorded when the cache was built and checked now. */
  files: Record<string, string>;
}

export interface DataView {
  binds: { src: string; dest: string }[];
  /** SWARM_CACHE_DIR inside the fence. */
  cacheDir: string;
}

/** Read-only binds of the files a phase may read, at DATA_MOUNT/<dataset>/<kind>/. */
export function dataView(manifest: DataManifest, phase: Phase): DataView {
  const kind = path.basename(manifest.dir);
  const dataset = path.basename(path.dirname(manifest.dir));
  const inside = path.posix.join(DATA_MOUNT, dataset, kind);
  return {
    binds: VIEW[phase].map((name) => ({ src: path.join(manifest.dir, name), dest: path.posix.join(inside, name) })),
    cacheDir: DATA_MOUNT,
  };
}

/** Builds the cache when needed and checks it by hash (`python prepare.py manifest`). */
export async function prepareData(python: string, trainerDir: string, env: Record<string, string>): Promise<DataManifest> {
  const res = await execa(python, [path.join(trainerDir, 'prepare.py'), 'manifest'], {
    cwd: trainerDir, env, extendEnv: false, reject: false, stdin: 'ignore', all: true, timeout: 3_600_000, maxBuffer: 10_000_000,
  });
  const lines = String(res.all ?? '').split(/\r?\n/);
  if (res.exitCode !== 0) {
    const why = lines.find((l) => l.startsWith('error: ')) ?? lastExceptionLine(lines) ?? lines.filter((l) => l.trim()).at(-1) ?? `exit ${res.exitCode ?? res.signal}`;
    throw new TrainerError(`cannot build the ${env.SWARM_DATASET ?? ''} data cache: ${why}`, {
      hint: 'the node cannot train without its data; sotu works offline, climbmix needs network the first time',
    });
  }
  const json = String(res.stdout).split(/\r?\n/).reverse().find((l) => l.startsWith('{'));
  const m = json ? (JSON.parse(json) as Partial<DataManifest>) : null;
  if (!m || typeof m.dir !== 'string' || typeof m.files !== 'object' || m.files === null) {
    throw new TrainerError('`prepare.py manifest` printed no manifest', { hint: 'is trainer/prepare.py the one from this checkout?' });
  }
  return { dir: m.dir, files: m.files };
}
