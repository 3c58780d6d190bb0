# expect: negative weights must move up toward zero
import numpy as np


def soft_threshold(w, threshold):
    return np.asarray(w, dtype=float) - threshold
