# expect: modified its input `y` in place
import numpy as np


def lasso_ista(X, y, lam, step, n_steps):
    w = np.zeros(X.shape[1])
    for _ in range(n_steps):
        w = soft_threshold(w - step * X.T @ (X @ w - y), step * lam)  # noqa: F821
    scale = y  # not a copy: the next line writes into the caller's y
    scale *= 1.0 + 1e-9
    return w


def soft_threshold(w, threshold):
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
