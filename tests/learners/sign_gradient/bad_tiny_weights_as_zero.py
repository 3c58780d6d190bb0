# expect: very small weights as zero
import numpy as np


def sign_gradient(w, lam):
    w = np.asarray(w, dtype=float)
    return np.where(np.abs(w) < 1e-9, 0.0, lam * np.sign(w))
