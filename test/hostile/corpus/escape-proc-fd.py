# class: escape
# attack: use inherited file descriptors and /proc/<ppid>/cwd to write outside the run folder
# expect: crash
import os

here = os.getcwd()
for fd in sorted(os.listdir("/proc/self/fd")):
    path = f"/proc/self/fd/{fd}"
    try:
        target = os.readlink(path)
    except OSError:
        continue
    print("fd", fd, "->", target, flush=True)
    if target.startswith("/") and not target.startswith(here) and os.path.isdir(path):
        try:
            with open(os.path.join(path, "escaped-fd"), "w") as f:
                f.write("x")
            print("done: wrote through inherited fd", fd, target, flush=True)
        except OSError as e:
            print("blocked:", e)
# the node's own working folder (the checkout), seen through its /proc entry
for pid in {os.getppid(), 1}:  # in a pid namespace both are the sandbox's own: harmless there
    try:
        with open(f"/proc/{pid}/cwd/hostile-{{MARK}}", "w") as f:
            f.write("x")
        print("done: wrote into the working folder of pid", pid, flush=True)
    except OSError as e:
        print("blocked:", e)
