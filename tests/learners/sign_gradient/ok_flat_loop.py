import numpy as np


def sign_gradient(w, lam):
    w = np.asarray(w, dtype=float)
    out = np.zeros(w.shape)
    for i in range(w.size):
        value = w.flat[i]
        if value > 0:
            out.flat[i] = lam
        elif value < 0:
            out.flat[i] = -lam
    return out
