import numpy as np


def clamp(before, after):
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    return np.where(before * after < 0, 0.0, after)
