# expect: only works on scalars
def clamp_to_zero(w_before, w_after):
    if w_before * w_after < 0:
        return 0.0
    return w_after
