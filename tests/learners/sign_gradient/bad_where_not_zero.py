# expect: negative weights need -lam
# expect-not: every non-zero entry is the negative
import numpy as np


def sign_gradient(w, lam):
    w = np.asarray(w, dtype=float)
    return np.where(w != 0, lam, 0.0)
