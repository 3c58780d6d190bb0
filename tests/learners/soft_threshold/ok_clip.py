import numpy as np


def soft_threshold(w, threshold):
    w = np.asarray(w, dtype=float)
    return np.clip(w - threshold, 0.0, None) + np.clip(w + threshold, None, 0.0)
