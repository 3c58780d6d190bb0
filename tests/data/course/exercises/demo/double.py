"""Exercise: return twice the input."""


def double(x):
    """Return 2 * x."""
    raise NotImplementedError("double is not written yet")
