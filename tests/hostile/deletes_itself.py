"""Renames, then deletes its own file, then fails so that a traceback must show its source."""

import os

os.rename(__file__, __file__ + ".moved")
os.remove(__file__ + ".moved")


def soft_threshold(w, threshold):
    return w / (threshold - threshold)
