"""Raises SystemExit inside the function (a BaseException, not an Exception)."""


def soft_threshold(w, threshold):
    raise SystemExit
