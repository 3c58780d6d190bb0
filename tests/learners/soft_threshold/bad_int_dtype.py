# expect: rounds fractions away
import numpy as np


def soft_threshold(w, threshold):
    result = np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
    return np.round(result).astype(int)
