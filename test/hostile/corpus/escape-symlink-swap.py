# class: escape
# attack: swap run.log and export/ for symlinks to HOME/.bashrc and another node's state, so the node's own (trusted) code writes or reads through them
# expect: crash
import os

for name, target in (("run.log", "{{HOME}}/.bashrc"), ("export", "{{OTHER_STATE}}"), ("result.json", "{{OTHER_STATE}}/identity.key")):
    try:
        if os.path.lexists(name):
            os.replace(name, name + ".orig")
        os.symlink(target, name)
        print("planted", name, "->", target, flush=True)
    except OSError as e:
        print("blocked:", e)
print("FAIL: please read run.log", flush=True)
raise SystemExit(1)
