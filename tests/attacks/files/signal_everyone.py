"""Sabotage: for 1.5 s sends __SIGNAL__ to every process of the grading run it can see.

That is the grader, the fork servers and the jobs running beside it. (Only processes whose command
line names this test session's install are aimed at, so that a failing run cannot hit the
developer's own processes.)
"""

import os
import signal
import time

SIGNAL = signal.__SIGNAL__
MARK = b"__MARK__"
me = os.getpid()
hit = set()
deadline = time.monotonic() + 1.5
while time.monotonic() < deadline:
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                if MARK not in handle.read():
                    continue
            os.kill(int(name), SIGNAL)
            hit.add(int(name))
        except OSError:
            continue
    time.sleep(0.005)


def soft_threshold(w, threshold):
    raise NotImplementedError("no implementation, only the attack")
