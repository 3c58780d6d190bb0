# expect: exactly 0.0
# expect: tiny but non-zero
import numpy as np


def sign_gradient(w, lam):
    w = np.asarray(w, dtype=float)
    return np.where(w == 0, 1e-12, lam * np.sign(w))
