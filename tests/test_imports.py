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
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print("HEAVY=" + json.dumps(heavy))
"""


def heavy_modules_after(args: list[str], home: Path) -> list[str]:
    env = {**os.environ, "QUIZKIT_HOME": str(home)}
    env.pop("QUIZKIT_COURSE", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(args=args, heavy=set(HEAVY))],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
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
