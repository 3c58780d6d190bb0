import numpy as np


def sign_gradient(w, lam):
    w = np.asarray(w, dtype=float)
    unit = np.divide(w, np.abs(w), out=np.zeros_like(w), where=w != 0)
    return lam * unit
