# class: write
# attack: overwrite the shared data cache (token files, metadata) that every run and node on the box reads
# expect: crash
import glob
import os

for path in glob.glob("{{CACHE}}/**/*", recursive=True):
    if not os.path.isfile(path):
        continue
    try:
        with open(path, "r+b") as f:
            f.write(b"\x00\x01")
        print("done: overwrote", path, flush=True)
    except OSError as e:
        print("blocked:", e)
try:
    open("{{CACHE}}/planted.bin", "wb").write(b"x")
except OSError as e:
    print("blocked:", e)
