# class: escape
# attack: signal the parent process (the node) to stop it
# expect: crash
import os
import signal

ppid = os.getppid()
print("parent:", ppid, open(f"/proc/{ppid}/cmdline", "rb").read()[:200] if os.path.exists(f"/proc/{ppid}/cmdline") else b"", flush=True)
try:
    os.kill(ppid, signal.SIGUSR2)
except OSError as e:
    print("blocked:", e)
