# expect: without clamping at 0
import numpy as np


def soft_threshold(w, threshold):
    return np.sign(w) * (np.abs(w) - threshold)
