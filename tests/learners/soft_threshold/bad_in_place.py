# expect: modified the input array in place
# expect: modified its input `w` in place
import numpy as np


def soft_threshold(w, threshold):
    if isinstance(w, float):
        return float(np.sign(w) * max(abs(w) - threshold, 0.0))
    w -= np.sign(w) * np.minimum(np.abs(w), threshold)
    return w
