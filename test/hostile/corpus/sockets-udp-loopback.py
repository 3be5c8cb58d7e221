# class: sockets
# attack: send a UDP datagram to a service on the host's 127.0.0.1
# expect: crash
import socket

try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"hello from a run", ("127.0.0.1", {{UDP_PORT}}))
    print("sent", flush=True)
except OSError as e:
    print("blocked:", e)
