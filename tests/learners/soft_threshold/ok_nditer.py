import numpy as np


def soft_threshold(w, threshold):
    w = np.asarray(w, dtype=float)
    out = np.empty_like(w)
    with np.nditer([w, out], flags=["zerosize_ok"], op_flags=[["readonly"], ["writeonly"]]) as it:
        for x, y in it:
            size = abs(float(x)) - threshold
            y[...] = 0.0 if size <= 0 else (size if x > 0 else -size)
    return out
