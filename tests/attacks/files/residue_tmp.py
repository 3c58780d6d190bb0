"""Residue: leaves a file at the top of /tmp, outside its own job folder."""

import os

with open(f"/tmp/quizkit-residue-{os.getpid()}", "w") as handle:
    handle.write("left behind by a learner\n")


def soft_threshold(w, threshold):
    raise NotImplementedError("no implementation, only the attack")
