"""Daemonizes with a double fork (fork, setsid, fork) and a SIGTERM-proof grandchild."""

import os
import signal
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(100)
    os._exit(0)


def soft_threshold(w, threshold):
    return w
