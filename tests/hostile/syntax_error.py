"""Not Python."""


def soft_threshold(w, threshold)
    return w
