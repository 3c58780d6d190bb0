import numpy as np


def clamp_to_zero(w_before, w_after):
    if isinstance(w_before, float):
        return 0.0 if (w_before > 0 > w_after) or (w_before < 0 < w_after) else w_after
    return np.where(np.sign(w_before) == -np.sign(w_after), np.where(w_after == 0, w_after, 0.0), w_after)
