# class: escape
# attack: create an eBPF map via the raw bpf() syscall (the way in to kernel programs)
# expect: crash
import ctypes
import platform
import struct

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
nr = 280 if platform.machine() in ("aarch64", "arm64") else 321
attr = ctypes.create_string_buffer(struct.pack("IIII", 1, 4, 4, 1) + bytes(112))  # BPF_MAP_TYPE_HASH, 4-byte keys/values, 1 entry
fd = libc.syscall(nr, 0, attr, 128)  # BPF_MAP_CREATE
if fd >= 0:
    print("HOSTILE-EFFECT: bpf map created, fd", fd, flush=True)
else:
    print("bpf blocked: errno", ctypes.get_errno())
