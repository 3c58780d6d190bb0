"""Exercise: soft thresholding.

Soft thresholding is the exact L1 step: it moves every weight toward zero by `threshold` and stops
at zero rather than crossing it. L1 training uses it after a plain step on the data loss:
v = w - alpha * grad_data(w), then w = soft_threshold(v, alpha * lam). Return sign(w) * max(|w| - threshold, 0) elementwise, so that every
entry with |w| <= threshold becomes exactly 0.0 (-0.0 counts as 0.0) and the others shrink by
threshold.

w is a Python float or a numpy array of any shape; threshold is a float >= 0. Return a float (or
0-d array) for a float and a float array of the same shape for an array. Do not modify w.
Grade it with:  quizkit submit soft_threshold.py
"""

import numpy as np


def soft_threshold(w, threshold):
    """Return sign(w) * max(|w| - threshold, 0), exactly 0.0 where |w| <= threshold.

    >>> soft_threshold(np.array([2.0, 0.5, 0.3, -1.0]), 0.5)
    array([ 1.5,  0. ,  0. , -0.5])
    """
    raise NotImplementedError("soft_threshold is not written yet: replace this line with your code")
