"""Writes the fence's seccomp filter (compiled BPF, as bwrap --seccomp reads it) to argv[1].

Run by the node, never inside a fence. Default: allow. Denied with EPERM: what a training run has
no use for and an attacker does: sockets other than AF_UNIX (no network; PyTorch uses local Unix
sockets), tracing and reading other processes, kernel keyrings, BPF, mounts and namespaces, kernel
modules, userfaultfd and io_uring (kernel attack surface; io_uring also bypasses this filter),
perf events, and file handles that escape a mount. clone3 gets ENOSYS: its flags sit in memory a
filter cannot read, and glibc then falls back to clone, whose namespace flags are checked here.
"""
import errno
import sys

try:
    import pyseccomp as seccomp  # ctypes binding to the system libseccomp.so.2
except ImportError as missing:
    try:
        import seccomp  # libseccomp's own binding, same API
    except ImportError:
        print(f"pyseccomp not installed ({missing}); pip install pyseccomp", file=sys.stderr)
        sys.exit(3)
except RuntimeError as e:  # pyseccomp raises this when libseccomp.so.2 is missing
    print(f"libseccomp not found ({e}); apt-get install libseccomp2", file=sys.stderr)
    sys.exit(3)

AF_UNIX = 1
DENIED = [
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "bpf", "keyctl", "add_key", "request_key",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "perf_event_open",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "open_by_handle_at", "name_to_handle_at", "swapon", "swapoff", "reboot", "acct", "quotactl",
]
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (CLONE_NEWTIME, 0x80, shares
# clone()'s exit-signal byte and is only valid for unshare/clone3, both refused).
CLONE_NS_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]


def build():
    # Only the native architecture is allowed: the process dies on a call made through another ABI
    # (x86-64's int 0x80 i386 entry, x32), so socketcall() and friends cannot go around the rules.
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    eperm = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            f.add_rule(eperm, name)
        except Exception as e:  # a name this libseccomp does not know: say which, do not run half a filter
            raise SystemExit(f"libseccomp cannot resolve syscall {name!r}: {e}")
    f.add_rule(eperm, "socket", seccomp.Arg(0, seccomp.NE, AF_UNIX))
    f.add_rule(eperm, "socketpair", seccomp.Arg(0, seccomp.NE, AF_UNIX))
    for flag in CLONE_NS_FLAGS:
        f.add_rule(eperm, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    return f


def main():
    with open(sys.argv[1], "wb") as out:
        build().export_bpf(out)


if __name__ == "__main__":
    main()
