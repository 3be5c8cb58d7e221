# class: escape
# attack: unshare a mount (and user) namespace via ctypes, mount over paths and remount HOME writable
# expect: crash
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_BIND, MS_REMOUNT, MS_REC, MS_PRIVATE = 4096, 32, 16384, 1 << 18
for flags in (CLONE_NEWNS, CLONE_NEWUSER | CLONE_NEWNS):
    if libc.unshare(flags) == 0:
        print("unshare", hex(flags), "ok", flush=True)
        break
    print("unshare", hex(flags), "blocked: errno", ctypes.get_errno())
os.makedirs("mnt", exist_ok=True)
if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0 and libc.mount(b"none", b"mnt", b"tmpfs", 0, None) == 0:
    print("HOSTILE-EFFECT: mount() works inside the run", flush=True)
    home = b"{{HOME}}"
    libc.mount(home, home, None, MS_BIND | MS_REC, None)
    libc.mount(None, home, None, MS_BIND | MS_REMOUNT, None)
    try:
        open("{{HOME}}/escaped-mount", "w").write("x")
    except OSError as e:
        print("write blocked:", e)
else:
    print("mount blocked: errno", ctypes.get_errno())
