# expect: noise features
import numpy as np


def lasso_ista(X, y, lam, step, n_steps):
    w = np.zeros(X.shape[1])
    for _ in range(n_steps):
        w = w - step * (X.T @ (X @ w - y) + lam * np.sign(w))
    return w
