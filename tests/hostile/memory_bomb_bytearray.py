"""Asks for 10 GB at once."""


def soft_threshold(w, threshold):
    hog = bytearray(10**10)
    return hog
