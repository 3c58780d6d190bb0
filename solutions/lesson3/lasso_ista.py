"""Reference solution: the Lasso by ISTA (a data-gradient step, then soft thresholding)."""

import numpy as np


def lasso_ista(X, y, lam, step, n_steps):
    """Minimise 1/2 ||X w - y||^2 + lam * ||w||_1 with ``n_steps`` ISTA steps from w = 0.

    Each step is a plain gradient step on the data loss, v = w - step * X^T (X w - y), followed by
    ``soft_threshold(v, step * lam)``. ``soft_threshold`` is not defined here: the exercise
    declares ``uses: [soft_threshold]``, so the grader loads that exercise's reference first, exactly
    as it does for a learner who leaves it out. Inputs are read, never written.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.zeros(X.shape[1])
    for _ in range(int(n_steps)):
        gradient = X.T @ (X @ w - y)
        w = soft_threshold(w - step * gradient, step * lam)  # noqa: F821 (preloaded)
    return w
