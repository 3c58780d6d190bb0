"""Prints 100 MB."""

import sys


def soft_threshold(w, threshold):
    line = "x" * 1023 + "\n"
    for _ in range(100 * 1024):
        sys.stdout.write(line)
    return w
