# class: resource
# attack: start threads until the task limit is reached (threads are tasks too)
# expect: crash
# limit: processes
import threading
import time

started = 0
try:
    for started in range({{PROCS}}):
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
except RuntimeError as e:
    print("threads stopped at", started, e, flush=True)
    time.sleep(5)
    raise SystemExit(1)
print("started", started + 1, "threads", flush=True)
time.sleep(2)
print("FAIL: nothing stopped the flood", flush=True)
raise SystemExit(1)
