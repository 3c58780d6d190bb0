"""The whole speed table of PRODUCT.md, each budget as a ratio to its floor measured in the same run.

Machines differ several-fold in absolute speed, so every figure is paired with a floor that runs on
the same machine at the same time: the two commands run in turn (A B A B ...), and the table gives
the median of both and the median of the per-pair ratios, so load that comes and goes affects both.

| what | floor | budget |
|---|---|---|
| quizkit --help | python -c "import click" | <= 1.3x |
| quizkit list | python -c "import click" | <= 1.6x |
| first question of take lesson3 on screen | python -c "import click" | <= 2x |
| symbolic check, warm / worst incl. after a kill | - | median <= 20 ms; <= 2 s |
| quizkit check (symbolic), cold | python -c "import sympy" | <= 1.3x |
| quizkit submit, one file | python -c "import numpy" | <= 2x |
| quizkit grade, isolated, 2 jobs | a bare fork per file from a warm numpy process, 2 at a time | >= 30% of its files/s |

Also printed: two more floors for grade, each a share of the bare fork (benchmarks/floor_fork.py):
a fork per file isolated in a few system calls inside bubblewrap (what isolation itself costs) and a
trivial job through quizkit's own fork servers (what its servers and runner add), with grade's share
of each; grade with --no-isolation (isolation should cost under 10%); and the grading process's
peak memory for two class sizes (flat in N).

    python benchmarks/all.py [--runs 7] [--files 300] [--source DIR]

``--source DIR`` measures another checkout of quizkit (an earlier commit, say) with this script:
its package and course are put first on PYTHONPATH.

Nothing is asserted; this prints measurements.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))  # the sibling scripts' measuring functions
from bench_cli import time_to_prompt, wall_time  # noqa: E402

PYTHON = sys.executable
QUIZKIT = [PYTHON, "-m", "quizkit"]


def paired(runs: int, measure_a, measure_b) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """(median A, median B, median of A/B per pair), A and B in turn after one warm-up each."""
    measure_a(), measure_b()
    a_times, b_times = [], []
    for _ in range(runs):
        a_times.append(measure_a())
        b_times.append(measure_b())
    ratios = [a / b for a, b in zip(a_times, b_times, strict=False)]
    return statistics.median(a_times), statistics.median(b_times), statistics.median(ratios)


def row(what: str, floor: str, a: float, b: float, ratio: float, budget: str) -> None:
    print(f"| {what} | {a * 1000:.0f} ms | {floor} {b * 1000:.0f} ms | {ratio:.2f}x | {budget} |")


def grade_rate(files: int, isolation: bool, home: str) -> dict[str, float]:
    """files/s and parent peak MiB of `quizkit grade` on a generated class, in a fresh process."""
    code = f"""
import json, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {str(BENCHMARKS)!r})
import bench_grade
# The class: the three first exercises of lesson 3 (the ones every measured version has), from the
# measured checkout's reference solutions and sample learner files.
same = Path(tempfile.mkdtemp()) / "repo"
(same / "tests" / "learners").mkdir(parents=True)
(same / "solutions").mkdir()
(same / "solutions" / "lesson3").symlink_to(Path({str(SOURCE)!r}) / "solutions" / "lesson3")
for name in ("sign_gradient", "clamp_to_zero", "soft_threshold"):
    (same / "tests" / "learners" / name).symlink_to(Path({str(SOURCE)!r}) / "tests" / "learners" / name)
bench_grade.REPO = same
make_class = bench_grade.make_class
from quizkit.grade import GradeOptions, grade_directory
from quizkit.lesson import load_lesson
lesson = load_lesson(Path({str(SOURCE / "exercises" / "lesson3" / "lesson.yaml")!r}))
with tempfile.TemporaryDirectory() as temp:
    make_class(Path(temp) / "class", {files})
    started = time.perf_counter()
    try:
        options = GradeOptions(jobs=2, isolation={'"required"' if isolation else '"off"'})
    except TypeError:  # a quizkit from before isolation modes
        options = GradeOptions(jobs=2)
    summary = grade_directory(lesson, Path(temp) / "class", Path(temp) / "out" / "grades.csv", options)
    seconds = time.perf_counter() - started
print(json.dumps({{"rate": summary.graded / seconds, "mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    output = subprocess.run(
        [PYTHON, "-c", code], capture_output=True, text=True, check=True, env={**ENV, "QUIZKIT_HOME": home}
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def floor_rate(files: int, kind: str = "bare") -> float:
    """Files/s of a floor of benchmarks/floor_fork.py: "bare" forks, each child isolated in a few
    system calls ("minimal"), or trivial jobs through the measured quizkit's fork servers ("isolated")."""
    flags = {"bare": [], "minimal": ["--minimal"], "isolated": ["--isolated"]}[kind]
    output = subprocess.run(
        [PYTHON, str(BENCHMARKS / "floor_fork.py"), "--files", str(files), "--jobs", "2", *flags],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    ).stdout
    return float(output.split()[0])


SOURCE = REPO
ENV = dict(os.environ)


def main() -> None:
    global SOURCE, ENV
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="interleaved runs of each pair")
    parser.add_argument("--files", type=int, default=300, help="class size for the grade figures")
    parser.add_argument("--source", type=Path, default=REPO, help="the quizkit checkout to measure")
    options = parser.parse_args()
    SOURCE = options.source.resolve()
    ENV = {**os.environ, "PYTHONPATH": str(SOURCE), "QUIZKIT_COURSE": str(SOURCE)}
    # An installed quizkit runs from bytecode: compile it once here, since a PYTHONDONTWRITEBYTECODE
    # in the environment would otherwise make every measured run compile quizkit's sources again.
    compileall.compile_dir(SOURCE / "quizkit", quiet=1)

    work = Path(tempfile.mkdtemp(prefix="quizkit-bench-"))
    # Every command runs from here: ``python -c``/``-m`` put the working directory first on sys.path,
    # and from inside a checkout that one's quizkit would be measured whatever --source says.
    os.chdir(work)
    env = {**ENV, "QUIZKIT_HOME": str(work / "home")}
    submission = work / "soft_threshold.py"
    shutil.copyfile(SOURCE / "solutions" / "lesson3" / "soft_threshold.py", submission)
    floors = {
        "click": lambda: wall_time([PYTHON, "-c", "import click"], env),  # the same PYTHONPATH as quizkit
        "numpy": lambda: wall_time([PYTHON, "-c", "import numpy"], env),
        "sympy": lambda: wall_time([PYTHON, "-c", "import sympy"], env),
    }
    print(f"quizkit speed table for {SOURCE}: {options.runs} interleaved runs per pair, {os.cpu_count()} CPUs")
    print("| what | median | floor | ratio (median per pair) | budget |")
    print("|---|---|---|---|---|")
    help_run = lambda: wall_time([*QUIZKIT, "--help"], env)  # noqa: E731
    row("quizkit --help", "import click", *paired(options.runs, help_run, floors["click"]), "<= 1.3x")
    list_run = lambda: wall_time([*QUIZKIT, "list"], env)  # noqa: E731
    row("quizkit list", "import click", *paired(options.runs, list_run, floors["click"]), "<= 1.6x")
    take_run = lambda: time_to_prompt([*QUIZKIT, "take", "lesson3", "--restart"], env)  # noqa: E731
    row("take lesson3: first question", "import click", *paired(options.runs, take_run, floors["click"]), "<= 2x")
    check_run = lambda: wall_time([*QUIZKIT, "check", "lesson3", "l1-gradient", "λ sign(w)"], env)  # noqa: E731
    row("quizkit check (symbolic), cold", "import sympy", *paired(options.runs, check_run, floors["sympy"]), "<= 1.3x")
    submit_run = lambda: wall_time([*QUIZKIT, "submit", "lesson3", str(submission)], env)  # noqa: E731
    row("quizkit submit, one file", "import numpy", *paired(options.runs, submit_run, floors["numpy"]), "<= 2x")

    # Grade rates vary from run to run: three interleaved rounds of the floors, isolated and plain.
    rates: dict[str, list[float]] = {"bare": [], "minimal": [], "isolated": [], "grade": [], "plain": []}
    for _ in range(3):
        for kind in ("bare", "minimal", "isolated"):
            # (A quizkit whose sandbox API differs, measured with --source, has no "isolated" row.)
            with contextlib.suppress(subprocess.CalledProcessError):
                rates[kind].append(floor_rate(options.files, kind))
        rates["grade"].append(grade_rate(options.files, True, str(work / "home"))["rate"])
        rates["plain"].append(grade_rate(options.files, False, str(work / "home"))["rate"])

    def share(of: str, to: str) -> str:
        pairs = list(zip(rates[of], rates[to], strict=False))
        return f"{statistics.median(a / b for a, b in pairs):.0%}" if len(pairs) == 3 else "n/a"

    def median(kind: str) -> str:
        return f"{statistics.median(rates[kind]):.0f} files/s" if len(rates[kind]) == 3 else "n/a"

    print(
        f"| quizkit grade, isolated, {options.files} files (median of 3) | {median('grade')} | bare fork "
        f"{median('bare')} | {share('grade', 'bare')} of the floor | >= 30% |"
    )
    print(
        f"| floor: a fork per file isolated in a few system calls, in bubblewrap | {median('minimal')} | bare fork "
        f"| {share('minimal', 'bare')} | (what isolation costs); grade is {share('grade', 'minimal')} of it |"
    )
    print(
        f"| floor: a trivial job through quizkit's fork servers | {median('isolated')} | bare fork "
        f"| {share('isolated', 'bare')} | (servers and runner); grade is {share('grade', 'isolated')} of it |"
    )
    isolated_, plain_ = rates["grade"], rates["plain"]
    plain = statistics.median(plain_)
    kept = statistics.median(i / p for i, p in zip(isolated_, plain_, strict=True))
    print(
        f"| quizkit grade --no-isolation (median of 3) | {plain:.1f} files/s | | isolated/plain {kept:.0%} | >= 90% |"
    )
    small = grade_rate(200, True, str(work / "home"))
    large = grade_rate(1000, True, str(work / "home"))
    print(
        f"| grade parent peak memory | 200 files {small['mib']:.1f} MiB | | 1000 files {large['mib']:.1f} MiB | flat |"
    )
    if SOURCE == REPO:  # the warm-check script measures this checkout's checker
        print()
        print("symbolic checks, warm (benchmarks/bench_symbolic.py):")
        subprocess.run(
            [PYTHON, str(BENCHMARKS / "bench_symbolic.py"), "--rounds", "5", "--cold-runs", "0"], check=False
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
