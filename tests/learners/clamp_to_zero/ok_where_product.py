import numpy as np


def clamp_to_zero(w_before, w_after):
    w_before = np.asarray(w_before, dtype=float)
    w_after = np.asarray(w_after, dtype=float)
    with np.errstate(over="ignore"):
        flipped = w_before * w_after < 0
    return np.where(flipped, 0.0, w_after)
