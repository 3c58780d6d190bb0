import numpy as np


def clamp_to_zero(w_before, w_after):
    flipped = np.sign(w_before) * np.sign(w_after) < 0
    return np.where(flipped, 0.0, w_after).astype(float)
