# class: escape
# attack: set up an io_uring (its requests bypass syscall filters) via the raw syscall
# expect: crash
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
params = ctypes.create_string_buffer(120)
fd = libc.syscall(425, 8, params)  # io_uring_setup, same number on x86_64 and arm64
if fd >= 0:
    print("HOSTILE-EFFECT: io_uring_setup returned fd", fd, flush=True)
else:
    print("io_uring blocked: errno", ctypes.get_errno())
