"""Never finishes being imported."""

while True:
    pass


def soft_threshold(w, threshold):
    return w
