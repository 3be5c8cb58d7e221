# class: persistence
# attack: plant a .pth file in the interpreter's site-packages (run at start-up by every later Python, the node's included)
# expect: crash
import os
import sysconfig

path = os.path.join(sysconfig.get_paths()["purelib"], "zz-hostile-{{MARK}}.pth")
try:
    with open(path, "w") as f:
        f.write("/nonexistent/hostile-{{MARK}}\n")  # a harmless path entry: proof of the write, nothing more
    print("done: planted", path, flush=True)
except OSError as e:
    print("blocked:", e)
