"""Residue: creates a SysV shared memory segment (it outlives its creator unless removed)."""

import ctypes

IPC_PRIVATE, IPC_CREAT = 0, 0o1000
libc = ctypes.CDLL(None, use_errno=True)
segment = libc.shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600)
if segment >= 0:
    libc.shmat.restype = ctypes.c_void_p
    address = libc.shmat(segment, None, 0)
    if address not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(address, b"left behind by a learner", 24)


def soft_threshold(w, threshold):
    raise NotImplementedError("no implementation, only the attack")
