"""Loops forever inside the function."""


def soft_threshold(w, threshold):
    while True:
        pass
