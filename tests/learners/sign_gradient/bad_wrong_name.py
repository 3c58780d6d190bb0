# expect: named exactly
import numpy as np


def sign_grad(w, lam):
    return lam * np.sign(w)
