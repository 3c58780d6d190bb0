"""Persistence: plants a .pth file in the instructor's venv (run by every later Python start)."""

with open("__SITE__/zz-planted-by-a-learner.pth", "w") as handle:
    handle.write("# a line here could run code in every later grading run\n")


def soft_threshold(w, threshold):
    raise NotImplementedError("no implementation, only the attack")
