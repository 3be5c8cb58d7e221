/**
 * The environment of a fenced run: it starts empty (bwrap --clearenv) and gets only what is listed
 * here from the node's environment, then the run's own variables. An allowlist, because a denylist
 * of secret-looking names let OPENAI_KEY, PGPASSWORD and DATABASE_URL through: any name the node's
 * user happens to export is a secret until proven otherwise.
 */

/**
 * Names copied from the node's environment when set: locale, time zone, and what PyTorch/CUDA/BLAS
 * read. LD_LIBRARY_PATH and CUDA_HOME because GPU images point them at the driver and toolkit
 * (under /usr/local, inside the view); a folder they name outside the view simply is not there.
 */
const ALLOWED_NAMES: ReadonlySet<string> = new Set([
  'PATH', 'LANG', 'LANGUAGE', 'TZ', 'LD_LIBRARY_PATH', 'CUDA_HOME',
  'CUDA_VISIBLE_DEVICES', 'CUDA_DEVICE_ORDER', 'NVIDIA_VISIBLE_DEVICES', 'NVIDIA_DRIVER_CAPABILITIES',
  'OMP_NUM_THREADS', 'MKL_NUM_THREADS',
]);
/** Prefixes copied likewise: locale categories and OpenBLAS's threading knobs. */
const ALLOWED_PREFIXES: readonly string[] = ['LC_', 'OPENBLAS_'];

/** A PATH that finds the system's tools when the node's own is unset. */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The allowed part of `source` (the node's environment). */
export function allowedEnv(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined) continue;
    if (ALLOWED_NAMES.has(k) || ALLOWED_PREFIXES.some((p) => k.startsWith(p))) out[k] = v;
  }
  out.PATH ??= DEFAULT_PATH;
  return out;
}

/**
 * The whole environment inside a run: the allowlist, the run's own variables, then what the fence
 * fixes. PYTHONNOUSERSITE because HOME is the run folder: without it, a training run could plant a
 * .pth file in ~/.local/lib/pythonX/site-packages that the harness's later evaluation process (same
 * run folder, same HOME) would execute.
 */
export function runEnv(runDir: string, tmp: string, own: Record<string, string>, source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return { ...allowedEnv(source), ...own, HOME: runDir, TMPDIR: tmp, PYTHONNOUSERSITE: '1' };
}
