# class: write
# attack: write into this node's state folder: its database, identity key and a new file
# expect: crash
for path, mode in (("../../db/CURRENT", "w"), ("{{STATE}}/identity.key", "w"), ("{{STATE}}/planted", "w")):
    try:
        with open(path, mode) as f:
            f.write("overwritten by a run")
        print("done: wrote", path, flush=True)
    except OSError as e:
        print("blocked:", e)
