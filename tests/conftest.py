"""Shared fixtures: a small demo course, an isolated progress home, and ways to run the CLI.

The demo course (``tests/data/course``) has one choice, one multi and one numeric question and one
exercise, so the tests do not depend on the content of the real lessons.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from quizkit.cli import main


def default_sigint() -> None:
    """``preexec_fn`` for a quizkit process that a test interrupts: Ctrl-C must not be ignored.

    A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored across
    exec (Python then installs no KeyboardInterrupt handler), so a suite started that way would
    send Ctrl-C to processes that cannot hear it. A learner's terminal never ignores it.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


DATA = Path(__file__).resolve().parent / "data"
DEMO_COURSE = DATA / "course"
SUBPROCESS_TIMEOUT = 60


def console_script() -> list[str]:
    """The installed ``quizkit`` command, or ``python -m quizkit`` if the script is not on disk."""
    script = Path(sys.executable).with_name("quizkit")
    if script.is_file():
        return [str(script)]
    found = shutil.which("quizkit")
    return [found] if found else [sys.executable, "-m", "quizkit"]


@pytest.fixture(scope="session")
def quizkit_argv() -> list[str]:
    """How to start the real console script."""
    return console_script()


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A private copy of the demo course (tests may add lessons or break files in it)."""
    target = tmp_path / "course"
    shutil.copytree(DEMO_COURSE, target)
    return target


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``$QUIZKIT_HOME``; ``$QUIZKIT_COURSE`` is unset so only explicit courses count."""
    path = tmp_path / "home"
    monkeypatch.setenv("QUIZKIT_HOME", str(path))
    monkeypatch.delenv("QUIZKIT_COURSE", raising=False)
    return path


def invoke(args: Sequence[object], input: str | None = None) -> Result:
    """Run the CLI in-process; unexpected exceptions propagate so a traceback fails the test."""
    return CliRunner().invoke(
        main, [str(arg) for arg in args], input=input, catch_exceptions=False, prog_name="quizkit"
    )


@pytest.fixture
def invoke_cli(home: Path) -> Callable[..., Result]:
    """``invoke_cli(*args, input=None)``: the CLI with exactly these arguments (no --course added)."""

    def run(*args: object, input: str | None = None) -> Result:
        return invoke(args, input)

    return run


@pytest.fixture
def run_cli(course_dir: Path, home: Path) -> Callable[..., Result]:
    """``run_cli(*args, input=None)``: the CLI on the demo course with an empty progress home."""

    def run(*args: object, input: str | None = None) -> Result:
        return invoke(["--course", course_dir, *args], input)

    return run


@pytest.fixture
def run_quizkit(home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_quizkit(*args, input=None, cwd=None, env=None)``: the real console script in a subprocess.

    The environment is the test's (so ``$QUIZKIT_HOME`` points at ``home``), updated with ``env``.
    """

    def run(
        *args: object,
        input: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*console_script(), *(str(arg) for arg in args)],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=cwd,
            env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
            timeout=SUBPROCESS_TIMEOUT,
        )

    return run


@contextmanager
def capped(extra_memory: int = 1 << 30, seconds: int = 30) -> Iterator[None]:
    """Run a block in this process with a memory and a time cap, restored afterwards.

    For in-process checks of hostile input (alias bombs, deep nesting): should the code under test
    blow up, the block fails with MemoryError or TimeoutError instead of eating the machine.
    The memory cap is the address space in use now plus ``extra_memory``.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    in_use = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    cap = in_use + extra_memory if hard == resource.RLIM_INFINITY else min(hard, in_use + extra_memory)

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, previous)
