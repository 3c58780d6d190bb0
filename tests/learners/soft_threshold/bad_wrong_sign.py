# expect: wrong sign
import numpy as np


def soft_threshold(w, threshold):
    return np.sign(w) * np.minimum(threshold - np.abs(w), 0.0)
