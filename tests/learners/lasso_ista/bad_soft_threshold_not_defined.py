# expect: NameError: name 'soft_threshold' is not defined
import numpy as np


def lasso_ista(X, y, lam, step, n_steps):
    # soft_threshold is neither defined here nor in a soft_threshold.py beside this file.
    w = np.zeros(X.shape[1])
    for _ in range(n_steps):
        gradient = X.T @ (X @ w - y)
        v = w - step * gradient
        w = soft_threshold(v, step * lam)  # noqa: F821
    return w
