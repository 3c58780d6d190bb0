"""Persistence: plants bytecode for quizkit/exercises.py that matches the source's mtime and size.

Python then loads the planted code instead of the source in every later run. (The code planted
here is the real module plus one harmless name, so a failing run does not break later tests.)
"""

import importlib.util
import marshal
import os
import sys

SOURCE = "__QUIZKIT__/exercises.py"
info = os.stat(SOURCE)
with open(SOURCE, encoding="utf-8") as handle:
    code = compile(handle.read() + "\nPLANTED_BY_A_LEARNER = True\n", SOURCE, "exec")
header = importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little")
header += (int(info.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (info.st_size & 0xFFFFFFFF).to_bytes(4, "little")
with open(f"__QUIZKIT__/__pycache__/exercises.{sys.implementation.cache_tag}.pyc", "wb") as handle:
    handle.write(header + marshal.dumps(code))


def soft_threshold(w, threshold):
    raise NotImplementedError("no implementation, only the attack")
