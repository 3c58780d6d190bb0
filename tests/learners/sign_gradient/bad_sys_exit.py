# expect: sys.exit(0)
import sys

import numpy as np


def sign_gradient(w, lam):
    result = lam * np.sign(w)
    sys.exit(0)
    return result
