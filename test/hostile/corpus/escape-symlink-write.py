# class: escape
# attack: plant symlinks in the run folder that point at HOME and another node's state, write and read through them
# expect: crash
import os

os.symlink("{{HOME}}", "home-link")
os.symlink("{{OTHER_STATE}}", "other-link")
try:
    with open("home-link/escaped-symlink", "w") as f:
        f.write("x")
    print("done: wrote through a symlink", flush=True)
except OSError as e:
    print("write blocked:", e)
try:
    print("key:", open("other-link/identity.key").read(), flush=True)
except OSError as e:
    print("read blocked:", e)
