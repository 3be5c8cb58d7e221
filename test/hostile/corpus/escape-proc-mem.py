# class: escape
# attack: open /proc/<pid>/mem of the parent and of another process for writing (code injection)
# expect: crash
import os

# pid 1 is left out: inside a pid namespace it is the sandbox's own init
for pid in {os.getppid(), {{VICTIM_PID}}} - {1}:
    try:
        with open(f"/proc/{pid}/mem", "r+b"):
            print("HOSTILE-EFFECT: opened /proc/%d/mem for writing" % pid, flush=True)
    except OSError as e:
        print("blocked:", e)
