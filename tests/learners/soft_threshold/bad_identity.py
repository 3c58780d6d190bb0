# expect: you returned w unchanged
# expect-not: tiny but non-zero
import numpy as np


def soft_threshold(w, threshold):
    return np.array(w, dtype=float)
