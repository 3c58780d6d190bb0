# expect: -0.0 is zero, not a negative weight
import numpy as np


def clamp_to_zero(w_before, w_after):
    flipped = np.signbit(w_before) != np.signbit(w_after)
    return np.where(flipped, 0.0, w_after)
