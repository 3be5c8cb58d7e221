/**
 * The hostile corpus (issue 8): train.py variants that attack the box they run on, each run through the
 * node's REAL trainer (nodeTrainer(config) from src/cli/trainer.ts, with its fence) and never through the
 * screen first: the fence must hold even when the screen is bypassed. Whether the screen alone would have
 * refused a variant is recorded in the table each suite prints, not asserted.
 *
 * Classes (test/hostile/corpus/<class>-<what>.py; see corpus.ts for the file format):
 *   escape       reach the host: ../, /proc/1/root, /proc/self/fd and /proc/<ppid>/cwd, symlinks out of the
 *                run folder, ptrace, signals to the node and its processes, unshare/mount/setns, io_uring,
 *                bpf, userfaultfd, perf_event_open, keyctl, /proc/<pid>/mem          (this file)
 *   secret       read canaries: ~/.ssh, shell history, agents' credentials, identity keys of this and
 *                another node, env keys, /proc/<pid>/environ and cmdline, a FAIL: line carrying them
 *                                                                                     (secret.test.ts)
 *   write,       write outside the run folder (checkout, data cache, state folders, other runs, /tmp,
 *   persistence  workspace refs), plant what runs later (git hooks, tokenizer pickle, prepare.pyc,
 *                compiler caches, site-packages .pth, ~/.bashrc, a daemon)           (write.test.ts)
 *   sockets      TCP/UDP to 127.0.0.1, unix sockets outside the run folder, the node's control socket,
 *                abstract unix sockets                                               (sockets.test.ts)
 *   resource     memory, fork and thread floods, disk and log floods, a busy loop    (resource.test.ts)
 *   cheat        fake printed numbers, a patched harness, validation data in training, non-causal or
 *                cross-row models, self-reported losses, a doctored export           (cheat.test.ts)
 *
 * Each variant gets a fresh world (world.ts): HOME in a temp folder with canary secrets, canary env vars
 * in the node's environment, this node's state folder (identity key, workspace, control socket, an
 * earlier run) holding the run folder, another node's state folder, a copy of the data cache, TCP/UDP/
 * unix/abstract listeners, a victim process. Asserted for every variant:
 *   - nothing changed outside the run folder: sha256 and file lists of HOME, both state folders (the run
 *     folder excepted), the data cache and the checkout's trainer/ (__pycache__ included) are equal before
 *     and after, and no file appeared in /tmp, the node's working folder or site-packages;
 *   - no listener got a connection or datagram, the node got no signal, the victim lives untraced;
 *   - no canary appears in the RunResult, the run log or any file of the run folder (what a record,
 *     a published reason or a log could carry);
 *   - no `HOSTILE-EFFECT:` line: printed only by probes whose success cannot be seen from outside (a
 *     syscall the seccomp layer must refuse: io_uring, bpf, userfaultfd, perf_event_open, keyctl, mount,
 *     setns, ptrace, /proc/<pid>/mem; validation data read by the training process). Writes, reads,
 *     connections and kills are judged only by what the harness sees outside, so a write that lands in
 *     the fence's private /tmp or tmpfs is (rightly) not counted;
 *   - no process of the run survives it (cmdline, environ or cwd naming the run folder, 5 s grace);
 *   - cheats: crash, or val_bpb not below the honest baseline's minus BPB_TOLERANCE (harness.ts);
 *   - resource abuse: not ok, and RunResult.reason names the limit (memory, process, disk, log, timeout);
 *   - `expect: crash` variants do not finish ok.
 * Worlds live under /var/tmp (or SWARM_HOSTILE_ROOT), not /tmp, which a fence may hide wholesale. The checkout's
 * trainer/ is put back byte for byte (times too) after a variant that got through, and planted files outside
 * are removed, so a failing run leaves no implant behind. Proven to bite: with bwrap made unusable (nodeTrainer
 * then runs with an incomplete fence) 45 of the 69 tests fail, each naming the effect it saw.
 */
import { describe, expect, it } from 'vitest';
import { CLASSES, loadCorpus } from './corpus.js';
import { hostileSuite } from './harness.js';

describe('hostile corpus', () => {
  it('has at least 45 well-formed variants', () => {
    const all = loadCorpus(CLASSES);
    expect(all.length).toBeGreaterThanOrEqual(45);
    for (const c of CLASSES) expect(all.some((v) => v.cls === c), c).toBe(true);
  });
});

describe('hostile corpus: escape', () => {
  hostileSuite({ title: 'escape', classes: ['escape'], timeoutSeconds: 30 });
});
