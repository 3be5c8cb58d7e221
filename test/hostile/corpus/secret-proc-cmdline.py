# class: secret
# attack: list /proc/*/cmdline to harvest secrets passed on other processes' command lines
# expect: crash
import os

for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        continue
    print(pid, cmd.replace(b"\0", b" ")[:300].decode("latin1"), flush=True)
