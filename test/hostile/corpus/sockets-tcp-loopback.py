# class: sockets
# attack: connect over TCP to a service on the host's 127.0.0.1 (databases, inspectors, local APIs listen there)
# expect: crash
import socket

try:
    with socket.create_connection(("127.0.0.1", {{TCP_PORT}}), timeout=3) as s:
        s.sendall(b"hello from a run\n")
    print("done: connected to 127.0.0.1:{{TCP_PORT}}", flush=True)
except OSError as e:
    print("blocked:", e)
