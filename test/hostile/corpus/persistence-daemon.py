# class: persistence
# attack: leave a daemon (double fork + setsid, stdio closed) that outlives the run and keeps trying to reach HOME
# expect: crash
import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        for _ in range(120):
            try:
                with open("{{HOME}}/daemon-was-here", "w") as f:
                    f.write(str(os.getpid()))
            except OSError:
                pass
            time.sleep(1)
        os._exit(0)
    os._exit(0)
time.sleep(1)
print("daemon started", flush=True)
