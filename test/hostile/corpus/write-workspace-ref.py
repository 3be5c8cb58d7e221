# class: write
# attack: move the workspace's branch best and rewrite its git config (the node's own history)
# expect: crash
ws = "{{STATE}}/workspace.git"
for path, text in ((ws + "/refs/heads/best", "0" * 40 + "\n"), (ws + "/config", "[core]\n\tbare = true\n\tfsmonitor = /bin/true\n")):
    try:
        with open(path, "w") as f:
            f.write(text)
        print("done: wrote", path, flush=True)
    except OSError as e:
        print("blocked:", e)
