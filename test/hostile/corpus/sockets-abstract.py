# class: sockets
# attack: connect to an abstract unix socket found in /proc/net/unix (no file: only the network namespace guards it)
# expect: crash
import socket

names = ["\0{{ABSTRACT}}"]
try:
    for line in open("/proc/net/unix"):
        path = line.split()[-1]
        if path.startswith("@{{ABSTRACT}}"):  # '@' stands for NUL; some servers pad the name to the full length
            names.append(path.replace("@", "\0"))
except OSError as e:
    print("blocked:", e)
for name in names:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(name)
        print("done: connected to an abstract socket", flush=True)
    except OSError as e:
        print("blocked:", e)
