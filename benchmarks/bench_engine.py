"""Start-up cost of the question engine (variants, reading items, plots) against PRODUCT.md's budgets.

Measured, interleaved round by round with the floor ``python -c "import click"``:

- ``quizkit --help`` (budget 1.3x the floor) and ``quizkit list`` (1.6x);
- the first question of ``quizkit take lesson3`` on screen (2x), with plots on and with ``--no-plots``;
- the first screen that draws a plot (the worked example's reading item, reached by a progress file
  that has the first question answered), with plots on and with ``--no-plots``: what a plot costs.

Each figure is the median wall-clock time of fresh subprocesses. Run:
``python benchmarks/bench_engine.py [--rounds N]``. Prints figures and ratios; no asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import quizkit_command, time_to_prompt, wall_time  # noqa: E402

BUDGETS = {"--help": 1.3, "list": 1.6, "first question": 2.0}


def seed_progress(home: Path) -> None:
    """A progress file with the first question of lesson 3 answered, so take opens on a plot."""
    record = {"status": "correct", "score": 1, "max_score": 1, "answer": "0", "attempts": 1}
    document = {"version": 2, "lesson": "lesson3", "seed": 7, "items": {"worked-example-l1-vs-l2": record}}
    (home / "progress").mkdir(parents=True, exist_ok=True)
    (home / "progress" / "lesson3.json").write_text(json.dumps(document), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11, help="runs per figure (default 11)")
    rounds = parser.parse_args().rounds

    quizkit = [*quizkit_command(), "--course", str(REPO)]
    with tempfile.TemporaryDirectory() as fresh, tempfile.TemporaryDirectory() as seeded:
        env = {**os.environ, "QUIZKIT_HOME": fresh, "PYTHONIOENCODING": "utf-8"}
        env.pop("QUIZKIT_COURSE", None)
        plot_env = {**env, "QUIZKIT_HOME": seeded}

        def plot_screen(*options: str) -> float:
            seed_progress(Path(seeded))  # each run starts at the reading item again
            return time_to_prompt([*quizkit, "take", "lesson3", *options], plot_env)

        measures: dict[str, Callable[[], float]] = {
            "import click (floor)": lambda: wall_time([sys.executable, "-c", "import click"], env),
            "--help": lambda: wall_time([*quizkit, "--help"], env),
            "list": lambda: wall_time([*quizkit, "list"], env),
            "first question": lambda: time_to_prompt([*quizkit, "take", "lesson3", "--restart"], env),
            "first question --no-plots": lambda: time_to_prompt(
                [*quizkit, "take", "lesson3", "--restart", "--no-plots"], env
            ),
            "plot screen": lambda: plot_screen(),
            "plot screen --no-plots": lambda: plot_screen("--no-plots"),
        }
        for measure in measures.values():  # warm the file cache
            measure()
        samples: dict[str, list[float]] = {name: [] for name in measures}
        for _ in range(rounds):  # interleaved, so a busy moment hits every figure alike
            for name, measure in measures.items():
                samples[name].append(measure())

    floor = statistics.median(samples["import click (floor)"])
    print(f"{'what':<28} {'median':>9} {'x floor':>8}  budget")
    for name, values in samples.items():
        median = statistics.median(values)
        budget = next((f"<= {limit}x" for key, limit in BUDGETS.items() if name.startswith(key)), "")
        if name.startswith("plot screen"):
            budget = "(no budget; what a plot costs)"
        print(f"{name:<28} {median * 1000:>7.0f}ms {median / floor:>7.2f}x  {budget}")
    with_plot = statistics.median(samples["plot screen"])
    without = statistics.median(samples["plot screen --no-plots"])
    print(
        f"a drawn plot adds {1000 * (with_plot - without):.0f} ms ({with_plot / without:.2f}x the same screen without it)"
    )


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s)")
