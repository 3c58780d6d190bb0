"""Reference solution of the demo exercise."""


def double(x):
    """Return 2 * x."""
    return 2 * x
