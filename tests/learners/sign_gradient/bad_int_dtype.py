# expect: rounds fractions away
import numpy as np


def sign_gradient(w, lam):
    return (lam * np.sign(w)).astype(np.int64)
