# class: escape
# attack: open a userfaultfd (a tool for kernel race exploits) via the raw syscall
# expect: crash
import ctypes
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
nr = 282 if platform.machine() in ("aarch64", "arm64") else 323
fd = libc.syscall(nr, os.O_CLOEXEC)
if fd >= 0:
    print("HOSTILE-EFFECT: userfaultfd returned fd", fd, flush=True)
else:
    print("userfaultfd blocked: errno", ctypes.get_errno())
