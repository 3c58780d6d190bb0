"""Wall time of grading one exercise file end to end, as a learner runs it: ``quizkit submit FILE``.

Each run is a fresh process (interpreter start, imports, lesson loading, reference run, the
sandboxed child, judging, rendering), timed from outside. Prints the median over ``--runs`` runs
against the budget of 0.5 s, with baselines for context. No asserts: this is a measurement.

    .venv/bin/python benchmarks/bench_submit.py [--runs 10] [--exercise soft_threshold]

If ``quizkit submit`` cannot run here (for example while the sandbox module is missing), the same
work is timed through a small stand-in script using the in-process runner, and the output says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 0.5

# Does what `quizkit submit` does, minus the sandbox: used only when the real command cannot run.
STAND_IN = """
import sys
from pathlib import Path
from quizkit.lesson import load_lesson
from quizkit.grading import grade_files
from quizkit.report import render
from quizkit.sandbox import InProcessRunner
lesson = load_lesson(Path(sys.argv[1]))
with InProcessRunner() as runner:
    results = grade_files(lesson, [Path(sys.argv[2])], None, runner)
print(render(results, "text", color=False))
"""


def quizkit_command() -> list[str]:
    script = Path(sys.executable).with_name("quizkit")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "quizkit"]


def time_runs(
    command: list[str], runs: int, env: dict[str, str], ok_codes: tuple[int, ...] = (0,)
) -> list[float] | str:
    """Seconds per run, or the error output of the first run that failed."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)
        elapsed = time.perf_counter() - start
        if done.returncode not in ok_codes:
            return (
                (done.stderr or done.stdout).strip().splitlines()[-1]
                if (done.stderr or done.stdout)
                else f"exit {done.returncode}"
            )
        times.append(elapsed)
    return times


def report(label: str, times: list[float], budget: float | None = None) -> None:
    median = statistics.median(times)
    line = f"{label:<44} median {median * 1000:7.1f} ms   min {min(times) * 1000:7.1f} ms   max {max(times) * 1000:7.1f} ms"
    if budget is not None:
        line += f"   {median / budget:.2f} x budget ({budget * 1000:.0f} ms)"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--exercise", default="soft_threshold")
    options = parser.parse_args()

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("QUIZKIT_COURSE", None)
    with tempfile.TemporaryDirectory() as workdir:
        # A correct learner file (a copy of the reference), so every case is run and judged.
        learner = Path(workdir) / f"{options.exercise}.py"
        shutil.copy(REPO / "solutions" / "lesson3" / f"{options.exercise}.py", learner)
        env["QUIZKIT_HOME"] = str(Path(workdir) / "home")

        print(f"{options.runs} runs each, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        report("python -c pass", time_runs([sys.executable, "-c", "pass"], options.runs, env))
        report("python -c 'import numpy'", time_runs([sys.executable, "-c", "import numpy"], options.runs, env))

        submit = [*quizkit_command(), "--course", str(REPO), "submit", "lesson3", str(learner)]
        times = time_runs(submit, options.runs, env)
        if isinstance(times, list):
            report(f"quizkit submit {learner.name}", times, BUDGET_SECONDS)
            return
        print(f"quizkit submit could not run ({times}); timing the stand-in script instead")
        stand_in = [sys.executable, "-c", STAND_IN, str(REPO / "exercises" / "lesson3" / "lesson.yaml"), str(learner)]
        fallback = time_runs(stand_in, options.runs, env)
        if isinstance(fallback, str):
            print(f"the stand-in failed too: {fallback}")
            return
        report("stand-in (in-process runner, no sandbox)", fallback, BUDGET_SECONDS)


if __name__ == "__main__":
    main()
