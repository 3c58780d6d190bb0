import numpy as np


def clamp_to_zero(w_before, w_after):
    keep = np.sign(w_before) * np.sign(w_after) >= 0
    return np.asarray(w_after, dtype=float) * keep
