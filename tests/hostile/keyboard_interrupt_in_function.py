"""Raises KeyboardInterrupt inside the function, as if Ctrl-C had been pressed."""


def soft_threshold(w, threshold):
    raise KeyboardInterrupt
