"""Residue: leaves a file in /dev/shm for a later job (or anyone) to find."""

import os

with open(f"/dev/shm/quizkit-residue-{os.getpid()}", "w") as handle:
    handle.write("left behind by a learner\n")


def soft_threshold(w, threshold):
    raise NotImplementedError("no implementation, only the attack")
