# expect: rounds fractions away
import numpy as np


def clamp_to_zero(w_before, w_after):
    result = np.where(np.sign(w_before) * np.sign(w_after) < 0, 0, w_after)
    return result.astype(np.int64)
