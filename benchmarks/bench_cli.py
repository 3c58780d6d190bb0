"""Start-up speed of the command line against the budget in PRODUCT.md.

Budgets: ``quizkit --help`` and ``quizkit list`` under 100 ms; the first question of
``quizkit take lesson3`` on screen under 300 ms. Each figure is the median wall-clock time of fresh
subprocesses; ``python -c "import click"`` is measured as the floor any click program pays.

Run: ``python benchmarks/bench_cli.py [--rounds N]``. Prints figures only; no asserts.
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
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROMPT = b"> "


def quizkit_command() -> list[str]:
    script = Path(sys.executable).with_name("quizkit")
    if script.is_file():
        return [str(script)]
    found = shutil.which("quizkit")
    return [found] if found else [sys.executable, "-m", "quizkit"]


def wall_time(argv: list[str], env: dict[str, str], stdin: bytes = b"") -> float:
    """Seconds from start to exit of one run."""
    start = time.perf_counter()
    subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def time_to_prompt(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from start until the first answer prompt is on stdout; then answers 'q' and waits."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert process.stdout is not None and process.stdin is not None
    seen = b""
    elapsed = float("nan")
    while chunk := os.read(process.stdout.fileno(), 65536):
        seen += chunk
        if PROMPT in seen:
            elapsed = time.perf_counter() - start
            break
    process.stdin.write(b"q\n")
    process.stdin.close()
    process.stdout.read()
    process.wait(timeout=60)
    return elapsed


def median_of(rounds: int, measure: Callable[[], float]) -> float:
    measure()  # warm the file cache
    return statistics.median(measure() for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="runs per figure (default 15)")
    rounds = parser.parse_args().rounds

    quizkit = [*quizkit_command(), "--course", str(REPO)]
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "QUIZKIT_HOME": home, "PYTHONIOENCODING": "utf-8"}
        env.pop("QUIZKIT_COURSE", None)
        take = [*quizkit, "take", "lesson3", "--restart"]
        figures = [
            (
                'python -c "import click"',
                None,
                median_of(rounds, lambda: wall_time([sys.executable, "-c", "import click"], env)),
            ),
            ("quizkit --help", 0.100, median_of(rounds, lambda: wall_time([*quizkit, "--help"], env))),
            ("quizkit list", 0.100, median_of(rounds, lambda: wall_time([*quizkit, "list"], env))),
            ("take lesson3: first prompt", 0.300, median_of(rounds, lambda: time_to_prompt(take, env))),
            ("take lesson3: whole run, 'q'", None, median_of(rounds, lambda: wall_time(take, env, b"q\n"))),
        ]

    baseline = figures[0][2]
    print(f"median of {rounds} runs, wall clock, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"{'what':<32} {'median':>9} {'budget':>8} {'of budget':>10} {'vs click':>9}")
    for name, budget, seconds in figures:
        budget_text = f"{budget * 1000:.0f} ms" if budget else "-"
        ratio = f"{seconds / budget:.2f}x" if budget else "-"
        print(f"{name:<32} {seconds * 1000:7.1f} ms {budget_text:>8} {ratio:>10} {seconds / baseline:8.2f}x")


if __name__ == "__main__":
    main()
