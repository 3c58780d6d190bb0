# expect: did you forget `return`?
import numpy as np


def sign_gradient(w, lam):
    result = lam * np.sign(w)
