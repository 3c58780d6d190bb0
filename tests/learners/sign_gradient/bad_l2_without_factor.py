# expect: L2 gradient
import numpy as np


def sign_gradient(w, lam):
    return lam * np.asarray(w, dtype=float)
