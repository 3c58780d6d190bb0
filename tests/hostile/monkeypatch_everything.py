"""Replaces what a grader might use to encode or compare results, then returns a wrong answer."""

import builtins
import json
import os
import struct

import numpy as np

np_zeros = np.zeros
real_print = builtins.print

np.asarray = lambda *args, **kwargs: np_zeros(3)
np.array_equal = lambda *args, **kwargs: True
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: True
np.save = lambda *args, **kwargs: None
np.lib.format.write_array = lambda *args, **kwargs: None
np.testing.assert_allclose = lambda *args, **kwargs: None
json.dumps = lambda *args, **kwargs: '{"t": "end", "status": "ok", "score": 1.0}'
json.loads = lambda *args, **kwargs: {"status": "ok"}
struct.pack = lambda *args: b"\x00\x00\x00\x02{}"
builtins.print = lambda *args, **kwargs: real_print("PASS")
os.write = lambda fd, data: len(data)


def soft_threshold(w, threshold):
    return np_zeros(np.shape(w)) + 12345.0
