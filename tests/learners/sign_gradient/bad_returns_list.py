# expect: you returned a list
import numpy as np


def sign_gradient(w, lam):
    return [lam * s for s in np.sign(np.atleast_1d(w))]
