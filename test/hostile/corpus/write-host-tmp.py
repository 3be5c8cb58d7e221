# class: write
# attack: write into the host's /tmp (shared with every user and process of the box)
# expect: crash
try:
    with open("/tmp/swarm-hostile-{{MARK}}", "w") as f:
        f.write("x")
    print("done: wrote the host's /tmp", flush=True)
except OSError as e:
    print("blocked:", e)
