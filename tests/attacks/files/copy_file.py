"""Copying: runs another file from disk (a reference solution, a classmate's file) as its own.

__SOURCE__ is filled in by the test. Scores what that file scores if the grader lets it be read.
"""

SOURCE = "__SOURCE__"
namespace = {}
with open(SOURCE, encoding="utf-8") as handle:
    exec(handle.read(), namespace)
print("__LEAK__: ran", SOURCE)
soft_threshold = namespace["soft_threshold"]
