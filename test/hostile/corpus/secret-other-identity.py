# class: secret
# attack: read another node's identity.key from its state folder
# expect: crash
try:
    print("other node key:", open("{{OTHER_STATE}}/identity.key").read(), flush=True)
except OSError as e:
    print("blocked:", e)
