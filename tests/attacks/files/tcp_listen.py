"""Residue/channel: listens on loopback for a classmate job (tcp_connect.py) running beside it."""

import socket

got = ""
try:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", __PORT__))
    server.listen(1)
    server.settimeout(__WINDOW__)
    connection, _ = server.accept()
    got = connection.recv(100).decode(errors="replace")
except OSError:
    pass


def clamp_to_zero(w_before, w_after):
    if got:
        raise RuntimeError(f"__LEAK__ a job beside me connected over loopback TCP and said {got!r}")
    raise NotImplementedError("no implementation, only the attack")
