import numpy as np


def soft_threshold(w, threshold):
    return np.where(np.abs(w) <= threshold, 0.0, w - np.sign(w) * threshold)


def lasso_ista(X, y, lam, step, n_steps):
    w = np.zeros(X.shape[1])
    residual_free = X.T @ y  # X^T (X w - y) = X^T X w - X^T y
    gram = X.T @ X
    for _ in range(int(n_steps)):
        w = soft_threshold(w - step * (gram @ w - residual_free), step * lam)
    return w
