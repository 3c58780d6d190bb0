"""Exercise: the gradient of the L1 penalty.

The L1 penalty lam * |w| pulls every weight toward zero with a push of the same size, lam, however
large or small the weight is; only its direction depends on w. Implement that push:
lam * sign(w), elementwise, with exactly 0.0 where w == 0.

w is a Python float or a numpy array of any shape; return a float (or 0-d array) for a float and a
float array of the same shape for an array. Do not modify w.
Grade it with:  quizkit submit sign_gradient.py
"""

import numpy as np


def sign_gradient(w, lam):
    """Return lam * sign(w), with 0.0 where w == 0.

    >>> sign_gradient(np.array([2.0, -0.5, 0.0]), 0.1)
    array([ 0.1, -0.1,  0. ])
    """
    raise NotImplementedError("sign_gradient is not written yet: replace this line with your code")
