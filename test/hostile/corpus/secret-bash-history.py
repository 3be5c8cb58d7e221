# class: secret
# attack: read the user's shell history (tokens typed on the command line)
# expect: crash
try:
    print(open("{{HOME}}/.bash_history").read(), flush=True)
except OSError as e:
    print("blocked:", e)
