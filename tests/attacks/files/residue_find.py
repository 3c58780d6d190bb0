"""Residue between jobs: looks for the notes residue_plant.py left in the job that ran before it."""

import ctypes
import os

found = []
BESIDE = os.path.join(os.path.dirname(os.getcwd()), "quizkit-note")  # the jobs folder, beside this job's own
for path in ("/dev/shm/quizkit-note", "/tmp/quizkit-note", os.path.expanduser("~/quizkit-note"), BESIDE):
    try:
        with open(path, "rb") as handle:
            found.append(f"{path}: {handle.read(100)!r}")
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
segment = libc.shmget(0x51554B4E, 0, 0)
if segment >= 0:
    libc.shmat.restype = ctypes.c_void_p
    address = libc.shmat(segment, None, 0o10000)  # SHM_RDONLY
    if address not in (None, ctypes.c_void_p(-1).value):
        found.append(f"SysV segment: {ctypes.string_at(address, 33)!r}")


def sign_gradient(w, lam):
    if found:
        raise RuntimeError("__LEAK__ the job before me left: " + "; ".join(found))
    raise NotImplementedError("no implementation, only the attack")
