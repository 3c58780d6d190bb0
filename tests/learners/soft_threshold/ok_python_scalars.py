import math

import numpy as np


def soft_threshold(w, threshold):
    if isinstance(w, float):
        return math.copysign(max(abs(w) - threshold, 0.0), w)
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
