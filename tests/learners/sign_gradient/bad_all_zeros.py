# expect: your result is all 0.0 in every case where it is wrong
# expect-not: very small weights as zero
import numpy as np


def sign_gradient(w, lam):
    return np.zeros_like(np.asarray(w, dtype=float))
