"""Reference solution: clamp weights whose sign flipped during an update step."""

import numpy as np


def clamp_to_zero(w_before, w_after):
    """Return ``w_after`` with every entry where ``w_before * w_after < 0`` set to exactly 0.0.

    The product of the signs is used rather than the product of the values: it has the same sign,
    but cannot overflow (1e300 * -1e300) or underflow to zero (1e-200 * -1e-200). A product of
    exactly zero (a weight that started or ended at zero) is not a flip, so those entries are
    returned unchanged. ``np.where`` builds a new array; neither input is written.
    """
    w_before = np.asarray(w_before, dtype=np.float64)
    w_after = np.asarray(w_after, dtype=np.float64)
    return np.where(np.sign(w_before) * np.sign(w_after) < 0, 0.0, w_after)
