# class: escape
# attack: reach the host's root through /proc/1/root (init's view) to read a key and write into HOME
# expect: crash
for base in ("/proc/1/root", "/proc/self/root/proc/1/root"):
    try:
        print(open(base + "{{HOME}}/.ssh/id_ed25519").read(), flush=True)
    except OSError as e:
        print("read blocked:", e)
    try:
        with open(base + "{{HOME}}/escaped-proc1", "w") as f:
            f.write("x")
        print("done: wrote through", base, flush=True)
    except OSError as e:
        print("write blocked:", e)
