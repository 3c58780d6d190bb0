# expect: you returned w_after unchanged
import numpy as np


def clamp_to_zero(w_before, w_after):
    return np.array(w_after, dtype=float)
