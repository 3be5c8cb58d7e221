# class: secret
# attack: read /proc/<ppid>/environ (the node's own environment) and that of every visible process
# expect: crash
import os

pids = [str(os.getppid())] + [p for p in os.listdir("/proc") if p.isdigit()]
for pid in pids:
    try:
        env = open(f"/proc/{pid}/environ", "rb").read()
    except OSError:
        continue
    if env:
        print(pid, env.replace(b"\0", b" ")[:4000].decode("latin1"), flush=True)
