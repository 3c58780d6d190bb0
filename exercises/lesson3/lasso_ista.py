"""Exercise (capstone): the Lasso, solved with ISTA.

Minimise 1/2 ||X w - y||^2 + lam * ||w||_1 by repeating, from w = 0, n_steps times:

    1. the gradient of the data loss at w:   gradient = X.T @ (X @ w - y)
    2. a plain step on the data loss only:    v = w - step * gradient
    3. the L1 part, soft thresholding:        w = soft_threshold(v, step * lam)

and return w (a float array with one weight per column of X). Weights whose data slope stays
within [-lam, lam] end up exactly 0.0, so the returned w tells you which features were selected.

Reuse your soft_threshold: keep your soft_threshold.py from the earlier exercise in this folder
(the grader loads it before this file), or paste it above lasso_ista. Do not modify X or y.
n_steps is an integer (possibly a 0-d numpy integer array: range(n_steps) accepts both).
Grade it with:  quizkit submit lasso_ista.py
"""

import numpy as np


def lasso_ista(X, y, lam, step, n_steps):
    """Return the weights after n_steps ISTA steps from w = 0.

    >>> lasso_ista(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([2.0, 0.3]), 0.5, 0.5, 50)
    array([1.5, 0. ])
    """
    raise NotImplementedError("lasso_ista is not written yet: fill in the loop below, then delete this line")
    w = np.zeros(X.shape[1])
    for _ in range(n_steps):
        gradient = ...  # 1. the gradient of 1/2 ||X w - y||^2 at w
        v = ...  # 2. a plain step on the data loss
        w = ...  # 3. soft thresholding by step * lam
    return w
