# expect: hard thresholding
import numpy as np


def soft_threshold(w, threshold):
    w = np.asarray(w, dtype=float)
    return np.where(np.abs(w) <= threshold, 0.0, w)
