# expect: at w == 0 the gradient must be 0.0
import numpy as np


def sign_gradient(w, lam):
    return np.where(np.asarray(w) >= 0, lam, -lam)
