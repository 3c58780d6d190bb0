import numpy as np


def clamp_to_zero(w_before, w_after):
    before = np.asarray(w_before)
    out = np.array(w_after, dtype=float)
    flipped = ((before > 0) & (out < 0)) | ((before < 0) & (out > 0))
    out[flipped] = 0.0
    return out
