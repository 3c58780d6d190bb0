# expect: you returned a list
import numpy as np


def soft_threshold(w, threshold):
    values = np.atleast_1d(np.asarray(w, dtype=float))
    return [float(np.sign(v) * max(abs(v) - threshold, 0.0)) for v in values]
