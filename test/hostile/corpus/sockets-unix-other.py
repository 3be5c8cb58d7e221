# class: sockets
# attack: connect to a unix socket outside the run folder (another node's control socket)
# expect: crash
import socket

try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect("{{UNIX_SOCK}}")
    s.sendall(b'{"verify": "x"}\n')
    print("done: connected to {{UNIX_SOCK}}", flush=True)
except OSError as e:
    print("blocked:", e)
