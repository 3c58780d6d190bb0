# expect: don't flatten
import numpy as np


def sign_gradient(w, lam):
    return (lam * np.sign(w)).ravel()
