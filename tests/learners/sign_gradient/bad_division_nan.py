# expect: nan
# expect: 0/0
import numpy as np


def sign_gradient(w, lam):
    w = np.asarray(w, dtype=float)
    return lam * w / np.abs(w)
