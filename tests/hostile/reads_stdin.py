"""Waits for input that will never come."""


def soft_threshold(w, threshold):
    return float(input("threshold? "))
