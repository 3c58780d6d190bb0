"""Reference solution: the L1 penalty (sub)gradient."""

import numpy as np


def sign_gradient(w, lam):
    """Return ``lam * sign(w)`` elementwise, exactly 0.0 where ``w == 0``.

    ``np.sign`` already maps 0.0 (and -0.0) to a zero, so no special case is needed. The input is
    read, never written; the result is a new float64 array (a numpy scalar for scalar input).
    """
    w = np.asarray(w, dtype=np.float64)
    return lam * np.sign(w)
