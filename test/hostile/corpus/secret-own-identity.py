# class: secret
# attack: read this node's own identity.key, two folders up from the run folder and by its absolute path
# expect: crash
for path in ("../../identity.key", "{{STATE}}/identity.key"):
    try:
        print("own key:", open(path).read(), flush=True)
    except OSError as e:
        print("blocked:", e)
