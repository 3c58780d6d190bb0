"""Exercise: clamp weights that crossed zero.

With a constant L1 push, a small weight can overshoot zero in one step and come out with the
opposite sign. L1 training stops it at zero instead, which is where the exact zeros of a sparse
model come from. Given the weights before and after a step, return w_after with every entry whose
sign flipped (w_before * w_after < 0) set to exactly 0.0; leave every other entry as it is. A weight
that starts or ends at 0 did not flip.

Inputs are Python floats or numpy arrays of the same shape; return a float array of that shape.
Do not modify either input.
Grade it with:  quizkit submit clamp_to_zero.py
"""

import numpy as np


def clamp_to_zero(w_before, w_after):
    """Return w_after with the entries that changed sign set to exactly 0.0.

    >>> clamp_to_zero(np.array([0.05, -0.3, 0.0]), np.array([-0.01, -0.2, 0.4]))
    array([ 0. , -0.2,  0.4])
    """
    raise NotImplementedError("clamp_to_zero is not written yet: replace this line with your code")
