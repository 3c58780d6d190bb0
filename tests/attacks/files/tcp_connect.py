"""Residue/channel: connects over loopback to a classmate job (tcp_listen.py) running beside it."""

import socket
import time

connected = False
deadline = time.monotonic() + __WINDOW__
while not connected and time.monotonic() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", __PORT__), timeout=0.2) as client:
            client.sendall(b"hello from the job beside you")
            connected = True
    except OSError:
        time.sleep(0.02)


def sign_gradient(w, lam):
    if connected:
        raise RuntimeError("__LEAK__ connected to a job beside me over loopback TCP")
    raise NotImplementedError("no implementation, only the attack")
