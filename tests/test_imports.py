"""`quizkit --help` and `quizkit list` stay fast: they must not import numpy, sympy or plotext.

Each check runs in a fresh interpreter, since the test process itself has imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "sympy", "plotext")  # plotext: only imported when a plot is drawn

SCRIPT = """
import json, sys
from quizkit.cli import main
try:
    main({args!r}, standalone_mode=False)
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if any(m == p or m.startswith(p + '.') for p in {heavy!r}))
print("HEAVY=" + json.dumps(heavy))
"""


def heavy_modules_after(args: list[str], home: Path) -> list[str]:
    return modules_after(args, home, set(HEAVY))


def modules_after(args: list[str], home: Path, prefixes: set[str]) -> list[str]:
    """The modules named by ``prefixes`` (or inside them) that running ``quizkit ARGS`` imported."""
    env = {**os.environ, "QUIZKIT_HOME": str(home)}
    env.pop("QUIZKIT_COURSE", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(args=args, heavy=prefixes)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    marker = next(line for line in result.stdout.splitlines() if line.startswith("HEAVY="))
    return json.loads(marker.removeprefix("HEAVY="))


@pytest.mark.parametrize(
    "args",
    [["--help"], ["list"], ["check", "--help"], ["take", "--help"]],
    ids=["help", "list", "check-help", "take-help"],
)
def test_command_imports_neither_numpy_nor_sympy(args: list[str], tmp_path: Path) -> None:
    assert heavy_modules_after(args, tmp_path / "home") == []


def test_list_of_the_demo_course_imports_neither_numpy_nor_sympy(tmp_path: Path) -> None:
    course = Path(__file__).resolve().parent / "data" / "course"
    assert heavy_modules_after(["--course", str(course), "list"], tmp_path / "home") == []


def test_submitting_a_right_file_reads_no_formula_and_draws_nothing(tmp_path: Path) -> None:
    """What only a wrong file needs (the mistake detectors' formulas, the sweep's plot) or only
    another output format needs (JUnit's XML) stays out of a right submission's start-up."""
    repo = Path(__file__).resolve().parent.parent
    right = tmp_path / "soft_threshold.py"
    right.write_bytes((repo / "solutions" / "lesson3" / "soft_threshold.py").read_bytes())
    unwanted = {"quizkit.formula", "quizkit.mathparse", "quizkit.plots", "xml.etree", "sympy", "yaml"}
    args = ["--course", str(repo), "submit", "lesson3", str(right)]
    modules_after(args, tmp_path / "home", unwanted)  # the first run builds the caches
    assert modules_after(args, tmp_path / "home", unwanted) == []


SIGNATURES = """
import importlib, inspect, json, pkgutil
import quizkit

made = []
signature = inspect.signature


def recording(obj, *args, **kwargs):
    if getattr(obj, "__module__", "").startswith("quizkit"):
        made.append(obj.__module__ + "." + obj.__qualname__)
    return signature(obj, *args, **kwargs)


inspect.signature = recording
for module in pkgutil.walk_packages(quizkit.__path__, "quizkit."):
    if module.name != "quizkit.__main__":  # that one runs the command line
        importlib.import_module(module.name)
print("MADE=" + json.dumps(made))
"""


def test_importing_quizkit_computes_no_signature() -> None:
    """A dataclass without a docstring is given one made from its signature, which for a class with
    ``init=False`` (quizkit's frozen records) means parsing ``object.__init__``'s from text, with
    tokenize's patterns compiled on first use: milliseconds of every command's start. Every class
    of quizkit's has a docstring of its own."""
    result = subprocess.run([sys.executable, "-c", SIGNATURES], capture_output=True, text=True, timeout=120, check=True)
    marker = next(line for line in result.stdout.splitlines() if line.startswith("MADE="))
    assert json.loads(marker.removeprefix("MADE=")) == []
