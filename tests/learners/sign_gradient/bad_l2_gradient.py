# expect: L2 gradient
import numpy as np


def sign_gradient(w, lam):
    return 2 * lam * np.asarray(w, dtype=float)
