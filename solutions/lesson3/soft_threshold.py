"""Reference solution: soft thresholding, the proximal step of the L1 penalty."""

import numpy as np


def soft_threshold(w, threshold):
    """Return ``sign(w) * max(|w| - threshold, 0)`` elementwise.

    Where ``|w| <= threshold`` the maximum is exactly 0.0, so the result there is exactly zero
    (possibly -0.0, which equals 0.0). The input is read, never written.
    """
    w = np.asarray(w, dtype=np.float64)
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
