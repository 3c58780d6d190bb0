# expect: is not valid Python
import numpy as np


def soft_threshold(w, threshold)
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
