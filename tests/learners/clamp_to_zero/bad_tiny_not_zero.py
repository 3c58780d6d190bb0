# expect: exactly 0.0
# expect: tiny but non-zero
import numpy as np


def clamp_to_zero(w_before, w_after):
    return np.where(np.sign(w_before) * np.sign(w_after) < 0, 1e-12, w_after)
