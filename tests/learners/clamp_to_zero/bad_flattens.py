# expect: don't flatten
import numpy as np


def clamp_to_zero(w_before, w_after):
    before = np.ravel(w_before)
    after = np.ravel(w_after)
    return np.where(np.sign(before) * np.sign(after) < 0, 0.0, after)
