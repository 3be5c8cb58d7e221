# class: write
# attack: write into another node's state folder on the same box
# expect: crash
for path in ("{{OTHER_STATE}}/identity.key", "{{OTHER_STATE}}/runs/planted.py"):
    try:
        with open(path, "w") as f:
            f.write("x")
        print("done: wrote", path, flush=True)
    except OSError as e:
        print("blocked:", e)
