# class: resource
# attack: fork until the process table is full (root ignores RLIMIT_NPROC)
# expect: crash
# limit: processes
import os
import time

n = 0
try:
    for n in range({{PROCS}}):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
except OSError as e:
    print("fork stopped at", n, e, flush=True)
    time.sleep(5)
    raise SystemExit(1)
print("forked", n + 1, flush=True)
time.sleep(2)
print("FAIL: nothing stopped the flood", flush=True)
raise SystemExit(1)
