# expect: you took values from w_before
import numpy as np


def clamp_to_zero(w_before, w_after):
    return np.where(np.sign(w_before) * np.sign(w_after) < 0, 0.0, w_before)
