"""Residue between jobs: looks for the notes an earlier job left, then leaves its own for a later one.

Handed in for two exercises, so whichever of the two jobs runs second finds what the first left,
whatever order the grader runs them in.
"""

import ctypes
import os

NOTE = b"left behind by the job before you"
BESIDE = os.path.join(os.path.dirname(os.getcwd()), "quizkit-note")  # the jobs folder, beside this job's own
PLACES = ("/dev/shm/quizkit-note", "/tmp/quizkit-note", os.path.expanduser("~/quizkit-note"), BESIDE)
KEY = 0x51554B4E  # a fixed System V key the next job can look up
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
FAILED = (None, ctypes.c_void_p(-1).value)

found = []
for path in PLACES:
    try:
        with open(path, "rb") as handle:
            found.append(f"{path}: {handle.read(100)!r}")
    except OSError:
        pass
segment = libc.shmget(KEY, 0, 0)
if segment >= 0:
    address = libc.shmat(segment, None, 0o10000)  # SHM_RDONLY
    if address not in FAILED:
        found.append(f"SysV segment: {ctypes.string_at(address, len(NOTE))!r}")

for path in PLACES:
    try:
        with open(path, "wb") as handle:
            handle.write(NOTE)
    except OSError:
        pass
segment = libc.shmget(KEY, 4096, 0o1000 | 0o666)  # IPC_CREAT
if segment >= 0:
    address = libc.shmat(segment, None, 0)
    if address not in FAILED:
        ctypes.memmove(address, NOTE, len(NOTE))


def _report() -> None:
    if found:
        raise RuntimeError("__LEAK__ the job before me left: " + "; ".join(found))
    raise NotImplementedError("no implementation, only the attack")


def sign_gradient(w, lam):
    _report()


def clamp_to_zero(w_before, w_after):
    _report()
