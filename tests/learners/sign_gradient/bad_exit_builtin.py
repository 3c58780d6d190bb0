# expect: your code called sys.exit()
# expect-not: NameError
import numpy as np


def sign_gradient(w, lam):
    exit()  # the builtin that site provides (the fork server starts without site and sets it up)
    return lam * np.sign(w)
