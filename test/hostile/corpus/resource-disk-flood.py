# class: resource
# attack: fill the disk by writing into the (writable) run folder
# expect: crash
# limit: disk
import os

block = os.urandom(1 << 20) * 4
written = 0
with open("flood.bin", "wb") as f:
    while written < {{DISK_BYTES}}:
        f.write(block)
        written += len(block)
        f.flush()
print("wrote", written >> 20, "MiB", flush=True)
print("FAIL: nothing stopped the flood", flush=True)
raise SystemExit(1)
