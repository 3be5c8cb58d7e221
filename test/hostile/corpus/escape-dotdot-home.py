# class: escape
# attack: climb out of the run folder with ../ and write into the user's HOME
# expect: crash
import os

rel = os.path.relpath("{{HOME}}", os.getcwd())  # ../../../../home
try:
    with open(os.path.join(rel, "escaped-dotdot"), "w") as f:
        f.write("written from a run\n")
    print("done: wrote", os.path.join(rel, "escaped-dotdot"), flush=True)
except OSError as e:
    print("blocked:", e)
