"""Lifts the recursion limit and recurses through C code until the stack overflows."""

import sys


class Deep:
    def __repr__(self):
        return repr(self)


def soft_threshold(w, threshold):
    sys.setrecursionlimit(10**6)
    return repr(Deep())
