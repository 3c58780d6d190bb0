# expect: exactly 0.0
# expect: tiny but non-zero
import numpy as np


def soft_threshold(w, threshold):
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 1e-12)
