import numpy as np


def clamp_to_zero(w_before, w_after):
    before = np.asarray(w_before, dtype=float)
    out = np.array(w_after, dtype=float)
    for index in np.ndindex(out.shape):
        if (before[index] > 0 and out[index] < 0) or (before[index] < 0 and out[index] > 0):
            out[index] = 0.0
    return out
