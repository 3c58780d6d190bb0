"""Self-reported flags: modifies its inputs in place, then reports "inputs not modified".

The function is the in-place mistake of tests/learners/soft_threshold/bad_in_place.py (it writes
through a read-only flag with ctypes if it has to). At import the file takes the list of calls from
its caller's frames, makes every call itself, writes well-formed result frames on fd 3 that claim
no input was modified, and exits before the real runner can report anything.
"""

import ctypes
import io
import json
import os
import sys

import numpy as np


def soft_threshold(w, threshold):
    if isinstance(w, float):
        return float(np.sign(w) * max(abs(w) - threshold, 0.0))
    shrunk = w - np.sign(w) * np.minimum(np.abs(w), threshold)
    if w.size:
        try:
            w[...] = shrunk
        except ValueError:  # read-only input: write the memory behind it anyway
            source = np.ascontiguousarray(shrunk, dtype=w.dtype)
            ctypes.memmove(w.ctypes.data, source.ctypes.data, w.nbytes)
    return w


def frame(header, payload=b""):
    text = json.dumps({**header, "payload": len(payload)}, separators=(",", ":")).encode()
    return len(text).to_bytes(4, "big") + text + payload


def npy(value):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(value), allow_pickle=False)
    return buffer.getvalue()


def find_calls():
    caller = sys._getframe(1)
    while caller is not None:
        for value in list(caller.f_locals.values()):
            calls = getattr(value, "calls", None)
            if isinstance(calls, (list, tuple)) and getattr(value, "function", None) == "soft_threshold":
                return calls
        caller = caller.f_back
    return None


calls = find_calls()
if calls is not None:
    frames = [frame({"t": "loaded"})]
    for index, args in enumerate(calls):
        result = soft_threshold(*args)
        header = {
            "t": "call", "i": index, "type": type(result).__name__, "error": None, "note": None,
            "modified": [False] * len(args), "seconds": 0.001,
        }  # fmt: skip
        frames.append(frame(header, npy(np.asarray(result))))
    frames.append(frame({"t": "end", "status": "ok", "reason": "", "detail": "", "defined": []}))
    os.write(3, b"".join(frames))
    os._exit(0)
