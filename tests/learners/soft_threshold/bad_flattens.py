# expect: don't flatten
import numpy as np


def soft_threshold(w, threshold):
    w = np.asarray(w, dtype=float).flatten()
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
