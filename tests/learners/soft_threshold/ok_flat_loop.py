import numpy as np


def soft_threshold(w, threshold):
    w = np.asarray(w, dtype=float)
    out = np.zeros(w.shape)
    for i in range(w.size):
        value = w.flat[i]
        if value > threshold:
            out.flat[i] = value - threshold
        elif value < -threshold:
            out.flat[i] = value + threshold
    return out
