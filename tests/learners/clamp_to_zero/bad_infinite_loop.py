# expect: time limit
import numpy as np


def clamp_to_zero(w_before, w_after):
    out = np.array(w_after, dtype=float)
    i = 0
    while i < out.size:  # forgot to advance i
        if w_before.flat[i] * out.flat[i] < 0:
            out.flat[i] = 0.0
    return out
