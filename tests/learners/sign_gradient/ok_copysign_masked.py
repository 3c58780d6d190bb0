import numpy as np


def sign_gradient(w, lam):
    w = np.asarray(w, dtype=float)
    return np.where(w == 0, 0.0, np.copysign(lam, w))
