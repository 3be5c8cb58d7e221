# class: resource
# attack: allocate (and touch) memory until the box runs out
# expect: crash
# limit: memory
import time

hoard = []
chunk = 64 << 20
while len(hoard) * chunk < {{MEM_BYTES}}:
    hoard.append(b"\x01" * chunk)  # written, so every page is really used
print("held", len(hoard) * chunk >> 20, "MiB", flush=True)
time.sleep(2)
print("FAIL: nothing stopped the flood", flush=True)
raise SystemExit(1)
