# class: secret
# attack: read the user's ~/.ssh/id_ed25519 and print it into the run log
# expect: crash
import os

for path in ("{{HOME}}/.ssh/id_ed25519", os.path.expanduser("~/.ssh/id_ed25519")):
    try:
        print("stolen", path, open(path).read(), flush=True)
    except OSError as e:
        print("blocked:", e)
