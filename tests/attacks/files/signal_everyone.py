"""Sabotage: sends __SIGNAL__, for the tests' WINDOW of seconds, to every process of the grading run it can see.

That is the grader, the fork servers and the jobs running beside it. Only processes whose command
line names this test session's install or the sandbox's wire module are aimed at (inside the
sandbox's namespaces that is every process there is), so that a failing run cannot hit the
developer's own processes.
"""

import os
import signal
import time

SIGNAL = signal.__SIGNAL__
MARKS = (b"__MARK__", b"/quizkit/wire.py", b"_sandbox_child")
me = os.getpid()
hit = set()
deadline = time.monotonic() + __WINDOW__
while time.monotonic() < deadline:
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                command = handle.read()
            if not any(mark in command for mark in MARKS):
                continue
            os.kill(int(name), SIGNAL)
            hit.add(int(name))
        except OSError:
            continue
    time.sleep(0.005)


def soft_threshold(w, threshold):
    raise NotImplementedError("no implementation, only the attack")
