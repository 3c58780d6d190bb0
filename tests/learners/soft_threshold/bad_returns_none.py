# expect: did you forget `return`?
import numpy as np


def soft_threshold(w, threshold):
    shrunk = np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
    print(shrunk)
