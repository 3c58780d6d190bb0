# expect: for a scalar input return a float or a 0-d array
import numpy as np


def soft_threshold(w, threshold):
    w = np.atleast_1d(np.asarray(w, dtype=float))
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
