# expect: instead of by threshold
import numpy as np


def soft_threshold(w, threshold):
    return np.sign(w) * np.maximum(np.abs(w) - threshold / 2, 0.0)
