"""Grows a list until memory runs out, while being imported."""

hoard = []
while True:
    hoard.append(bytearray(10**6))


def soft_threshold(w, threshold):
    return w
