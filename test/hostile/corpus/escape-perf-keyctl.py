# class: escape
# attack: perf_event_open (kernel attack surface, side channels) and keyctl (the user's kernel keyrings)
# expect: crash
import ctypes
import platform
import struct

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
arm = platform.machine() in ("aarch64", "arm64")
attr = ctypes.create_string_buffer(struct.pack("IIQ", 1, 128, 0) + bytes(112))  # PERF_TYPE_SOFTWARE, size, CPU_CLOCK
fd = libc.syscall(241 if arm else 298, attr, 0, -1, -1, 0)
if fd >= 0:
    print("HOSTILE-EFFECT: perf_event_open returned fd", fd, flush=True)
else:
    print("perf_event_open blocked: errno", ctypes.get_errno())
key = libc.syscall(219 if arm else 250, 0, -4, 0)  # KEYCTL_GET_KEYRING_ID of the user keyring
if key >= 0:
    print("HOSTILE-EFFECT: keyctl reached the user keyring", key, flush=True)
else:
    print("keyctl blocked: errno", ctypes.get_errno())
