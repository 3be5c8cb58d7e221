# class: escape
# attack: open /proc/<pid>/mem of the parent and of another process for writing (code injection)
# expect: crash
import os

for pid in (os.getppid(), {{VICTIM_PID}}):
    try:
        with open(f"/proc/{pid}/mem", "r+b"):
            print("HOSTILE-EFFECT: opened /proc/%d/mem for writing" % pid, flush=True)
    except OSError as e:
        print("blocked:", e)
