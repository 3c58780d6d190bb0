# expect: you ignored lam
import numpy as np


def sign_gradient(w, lam):
    return np.sign(np.asarray(w, dtype=float))
