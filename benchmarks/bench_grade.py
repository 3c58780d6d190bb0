"""Throughput and memory of ``quizkit grade``: a generated class of learners, graded with ``jobs=2``.

For each class size (200 and 1000 learner files by default) a class is generated in a temporary
folder from lesson 3's reference solutions and the buggy and alternative-correct learner files in
``tests/learners/`` (files that loop forever are left out: each one just costs its time limit, which
says nothing about throughput). Every size is measured in a fresh process, so the peak memory figures
belong to that size alone:

* files/s: files graded per second of wall time of :func:`quizkit.grade.grade_directory`, which
  includes the fork servers' start-up, planning the exercises, writing feedback and the gradebook;
* parent peak RSS: ``ru_maxrss`` of the grading process (``memory flat in N`` means this barely
  moves between sizes);
* children peak RSS: ``ru_maxrss`` over the waited-for descendants: the largest single process among
  the fork servers and the learner processes they forked (one process, not their sum).

Budget: at least 50 files/s on 2 cores. No asserts; this is a measurement.

    .venv/bin/python benchmarks/bench_grade.py [--sizes 200 1000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LESSON = REPO / "exercises" / "lesson3" / "lesson.yaml"
BUDGET_FILES_PER_SECOND = 50.0


def make_class(folder: Path, files: int) -> None:
    """``files`` learner files, one learner folder per file, cycling through exercises and variants."""
    variants: list[tuple[str, Path]] = []
    for exercise_dir in sorted((REPO / "tests" / "learners").iterdir()):
        reference = REPO / "solutions" / "lesson3" / f"{exercise_dir.name}.py"
        # Half of the class hands in a correct file, the other half a mix of typical bugs.
        others = [p for p in sorted(exercise_dir.glob("*.py")) if "infinite_loop" not in p.name]
        variants += [(exercise_dir.name, reference)] * len(others)
        variants += [(exercise_dir.name, path) for path in others]
    for number in range(files):
        exercise, source = variants[number * 7919 % len(variants)]
        learner = folder / f"learner{number:05d}"
        learner.mkdir(parents=True)
        shutil.copyfile(source, learner / f"{exercise}.py")


def measure(files: int, jobs: int) -> dict[str, float]:
    """Grade a fresh class of ``files`` files in this process and report speed and memory."""
    from quizkit.grade import GradeOptions, grade_directory
    from quizkit.lesson import load_lesson

    lesson = load_lesson(LESSON)
    with tempfile.TemporaryDirectory(prefix="quizkit-bench-grade-") as temp:
        submissions = Path(temp) / "class"
        make_class(submissions, files)
        started = time.perf_counter()
        summary = grade_directory(lesson, submissions, Path(temp) / "out" / "grades.csv", GradeOptions(jobs=jobs))
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = grade_directory(lesson, submissions, Path(temp) / "out" / "grades.csv", GradeOptions(jobs=jobs))
        resume_seconds = time.perf_counter() - started
    return {
        "files": summary.graded,
        "seconds": seconds,
        "files_per_second": summary.graded / seconds,
        "rerun_seconds": resume_seconds,
        "rerun_graded": again.graded,
        "parent_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.jobs)))
        return
    print(f"quizkit grade, jobs={args.jobs}, budget {BUDGET_FILES_PER_SECOND:g} files/s")
    print(
        f"{'files':>6} {'seconds':>8} {'files/s':>8} {'budget':>7} {'rerun s':>8} {'parent MB':>10} {'children MB':>12}"
    )
    for size in args.sizes:
        # A fresh process per size, so that ru_maxrss is this size's peak and not an earlier one's.
        output = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--jobs", str(args.jobs)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        row = json.loads(output.strip().splitlines()[-1])
        verdict = "ok" if row["files_per_second"] >= BUDGET_FILES_PER_SECOND else "SLOW"
        print(
            f"{row['files']:>6.0f} {row['seconds']:>8.2f} {row['files_per_second']:>8.1f} {verdict:>7} "
            f"{row['rerun_seconds']:>8.2f} {row['parent_peak_mb']:>10.1f} {row['children_peak_mb']:>12.1f}"
        )
    print("rerun: the same command again over the unchanged class (everything is reused from the state file)")


if __name__ == "__main__":
    main()
