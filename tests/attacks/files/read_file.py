"""Reading secrets: opens a file the grading user can read (__TARGET__) and shows it in its feedback."""

TARGET = "__TARGET__"


def soft_threshold(w, threshold):
    with open(TARGET, "rb") as handle:
        data = handle.read(400)
    raise RuntimeError(f"__LEAK__ {TARGET}: {data!r}")
