# class: secret
# attack: read coding agents' credential files under ~/.config/<agent>/credentials.json
# expect: crash
import glob

for path in glob.glob("{{HOME}}/.config/*/credentials.json") or ["{{HOME}}/.config/claude/credentials.json"]:
    try:
        print(path, open(path).read(), flush=True)
    except OSError as e:
        print("blocked:", e)
