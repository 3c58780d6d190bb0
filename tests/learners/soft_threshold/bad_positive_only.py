# expect: you clamped negative weights to 0
import numpy as np


def soft_threshold(w, threshold):
    return np.maximum(np.asarray(w, dtype=float) - threshold, 0.0)
