# expect: you used <= instead of <
import numpy as np


def clamp_to_zero(w_before, w_after):
    return np.where(w_before * w_after <= 0, 0.0, w_after)
