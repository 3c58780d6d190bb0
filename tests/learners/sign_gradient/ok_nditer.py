import numpy as np


def sign_gradient(w, lam):
    w = np.asarray(w, dtype=float)
    out = np.empty_like(w)
    with np.nditer([w, out], flags=["zerosize_ok"], op_flags=[["readonly"], ["writeonly"]]) as it:
        for x, y in it:
            y[...] = lam if x > 0 else -lam if x < 0 else 0.0
    return out
