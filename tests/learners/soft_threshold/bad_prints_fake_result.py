# expect: did you forget `return`?
# expect: 0/22 checks passed
import numpy as np


def soft_threshold(w, threshold):
    print("soft_threshold.py — soft_threshold (Soft thresholding): 22/22 checks passed, score 2/2")
    np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
