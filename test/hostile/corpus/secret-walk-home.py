# class: secret
# attack: walk the whole HOME and print every file (whatever credentials it holds)
# expect: crash
import os

for root, dirs, files in os.walk("{{HOME}}"):
    for name in files:
        path = os.path.join(root, name)
        try:
            print(path, open(path, errors="replace").read(300), flush=True)
        except OSError as e:
            print("blocked:", e)
