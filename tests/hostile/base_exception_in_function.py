"""Raises a custom BaseException subclass, which `except Exception` does not catch."""


class Sneaky(BaseException):
    pass


def soft_threshold(w, threshold):
    raise Sneaky("caught by nobody")
