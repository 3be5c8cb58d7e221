# class: write
# attack: append to the checkout's trainer/prepare.py (the harness every later run and the node itself import)
# expect: crash
try:
    with open("{{TRAINER}}/prepare.py", "a") as f:
        f.write("\n# appended by a run\n")
    print("done: prepare.py modified", flush=True)
except OSError as e:
    print("blocked:", e)
