"""Exercise: clamp weights that crossed zero.

With a constant L1 push, a plain gradient step can carry a small weight past zero. A common
heuristic clamps such a weight to 0. It stops sign flips, but it does not keep weights at zero: at
w == 0 the plain step's penalty gradient is 0, so the next step moves the weight off zero again.
(Soft thresholding, the next exercise, is the step that keeps zeros.) Given the weights before and
after a step, return w_after with every entry whose sign flipped (w_before * w_after < 0) set to
exactly 0.0; leave every other entry as it is. A weight that starts or ends at 0 did not flip.

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
