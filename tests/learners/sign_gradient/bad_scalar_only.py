# expect: only works on scalars
def sign_gradient(w, lam):
    if w > 0:
        return lam
    if w < 0:
        return -lam
    return 0.0
