# class: sockets
# attack: connect to this node's own control socket, by its absolute path and relative to the run folder
# expect: crash
import socket

for path in ("{{CONTROL_SOCK}}", "../../control.sock"):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(path)
        print("done: connected to", path, flush=True)
    except OSError as e:
        print("blocked:", e)
