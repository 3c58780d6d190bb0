import numpy as np


def soft_threshold(w, threshold):
    return np.maximum(w - threshold, 0.0) + np.minimum(np.add(w, threshold), 0.0)
