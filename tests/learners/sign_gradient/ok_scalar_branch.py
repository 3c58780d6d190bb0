import numpy as np


def sign_gradient(w, lam):
    if isinstance(w, float):
        if w > 0:
            return lam
        if w < 0:
            return -lam
        return 0.0
    return lam * np.sign(w).astype(float)
