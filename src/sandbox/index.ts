/**
 * The fence every run of any code goes through (issue 8, part 1). Layers, each probed once by
 * detectFence() and reported in one line by describe():
 *   - filesystem: an empty root with only an allowlist bound in (system libraries, the interpreter
 *     and its packages, the caller's read-only binds, the run folder); no HOME, no state folder, no
 *     socket (view.ts). The environment starts empty plus an allowlist (env.ts).
 *   - network: a new, empty network namespace (bwrap).
 *   - user: a root node's runs are uid/gid 65534 on the host (setpriv inside bwrap, fence.ts).
 *   - seccomp: no sockets but AF_UNIX, no ptrace, bpf, keyrings, mounts, namespaces, userfaultfd,
 *     io_uring, perf events, module loading (seccomp_filter.py, loaded by bwrap).
 *   - cgroup: memory, tasks and CPU per run, and a kill of every process at the end (cgroup.ts).
 *   - rlimits: processes, file size, no core dumps (limits.ts); the run folder's size is polled (disk.ts).
 * What it does not protect: see docs/trust.md.
 */
export { detectFence, noFence, type DetectOptions } from './fence.js';
export { defaultLimits, formatBytes } from './limits.js';
export { allowedEnv } from './env.js';
export { SandboxError } from './errors.js';
export { findTool } from './host.js';
export { gpuDevices, listGpus } from './gpus.js';
export type { Fence, FencedRun, FenceLimits, FenceSpec, LayerName } from './types.js';
