"""Writes a 100 MB file into its working directory."""


def soft_threshold(w, threshold):
    with open("big.bin", "wb") as handle:
        for _ in range(100):
            handle.write(b"\0" * 2**20)
    return w
