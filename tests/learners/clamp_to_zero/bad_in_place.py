# expect: modified the input array in place
# expect: modified its input `w_after` in place
import numpy as np


def clamp_to_zero(w_before, w_after):
    if isinstance(w_after, float):
        return 0.0 if w_before * w_after < 0 else w_after
    w_after[np.sign(w_before) * np.sign(w_after) < 0] = 0.0
    return w_after
