# class: sockets
# attack: connect to an abstract unix socket (no file: only the network namespace guards it)
# expect: crash
import socket

try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect("\0{{ABSTRACT}}")
    print("done: connected to an abstract socket", flush=True)
except OSError as e:
    print("blocked:", e)
