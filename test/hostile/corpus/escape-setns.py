# class: escape
# attack: setns() into init's mount and network namespaces via ctypes, then write into HOME
# expect: crash
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
for ns in ("mnt", "net", "pid"):
    try:
        fd = os.open(f"/proc/1/ns/{ns}", os.O_RDONLY)
    except OSError as e:
        print(ns, "blocked:", e)
        continue
    if libc.setns(fd, 0) == 0:
        print("HOSTILE-EFFECT: setns into init's", ns, "namespace", flush=True)
    else:
        print("setns", ns, "blocked: errno", ctypes.get_errno())
try:
    open("{{HOME}}/escaped-setns", "w").write("x")
except OSError as e:
    print("write blocked:", e)
