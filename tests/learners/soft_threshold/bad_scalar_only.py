# expect: only works on scalars
import math


def soft_threshold(w, threshold):
    return math.copysign(max(abs(w) - threshold, 0.0), w)
