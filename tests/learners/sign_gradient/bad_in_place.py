# expect: modified the input array in place
# expect: modified its input `w` in place
import numpy as np


def sign_gradient(w, lam):
    if isinstance(w, float):
        return lam * np.sign(w)
    w[...] = lam * np.sign(w)
    return w
