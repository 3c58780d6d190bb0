# expect: are non-zero in the reference (real features) but 0.0 in yours
import numpy as np


def lasso_ista(X, y, lam, step, n_steps):
    w = np.zeros(X.shape[1])
    for _ in range(n_steps):
        w = soft_threshold(w - step * X.T @ (X @ w - y), lam)  # noqa: F821
    return w


def soft_threshold(w, threshold):
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
