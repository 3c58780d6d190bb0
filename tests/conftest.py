"""Shared fixtures: a small demo course, an isolated progress home, and ways to run the CLI.

The demo course (``tests/data/course``) has one choice, one multi and one numeric question and one
exercise, so the tests do not depend on the content of the real lessons.
"""

from __future__ import annotations

import compileall
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import quizkit
from quizkit.cli import main

# The suite runs on a worker per core and one more (pytest-xdist: ``-n auto --dist loadgroup`` in
# pyproject.toml, and pytest_xdist_auto_num_workers below). Tests that look at the whole machine must
# not count, or kill, the jobs of a test running beside them:
#
# * tests/test_sandbox.py and tests/test_isolation.py look for processes a job left behind, among
#   them orphans reparented to init whose command line names this checkout's sandbox script (fork
#   servers without namespaces, as test_isolation starts them too), and for files a job left in
#   /tmp and /dev/shm. They form the group "sandbox", run on one worker, one test after another,
#   beside the other tests: those start no fork server outside namespaces, and an orphan inside a
#   namespace is reparented inside it, never to init.
# * tests/attacks/ watch every new process, /tmp and /dev/shm entry and SysV segment of the grading
#   user, and kill its survivors: each worker grades as a user of its own (tests/attacks/conftest.py),
#   so these tests may run on any worker (for their cost they share one: SHARED_SET_UP below).
PROCESS_WATCHING_GROUPS = {"test_sandbox.py": "sandbox", "test_isolation.py": "sandbox"}
# Other tests go to whichever worker is free, one at a time, except those of a module that sets up
# something costly once (module-scoped fixtures: a warm SymPy worker, the learner suite graded in
# the sandbox, a class of 200 graded, the mutants' sandbox, root's install for the attacks): spread
# over two workers, it would be set up twice. Each of these modules runs whole on one worker.
WHOLE_MODULES = frozenset({
    "test_exercises.py", "test_grade.py", "test_lesson3_content.py", "test_mutants.py", "test_symbolic.py",
    "test_symbolic_corpus.py", "test_validate.py", "test_root_grader.py",
})  # fmt: skip
# Likewise modules that share a session's set-up: the attacks graded by the unprivileged user share
# its install and the honest class's baselines (tests/attacks/conftest.py), built once per worker.
SHARED_SET_UP = {
    "test_learner_code.py": "attacks",
    "test_grading_folder.py": "attacks",
    "test_memorising.py": "attacks",
}
GROUP_SCOPES = ("process watchers:", "shared set-up:")  # how the scheduler below names the groups


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than there are cores. A good part of the suite's time is spent
    waiting (time limits running out, attack files that keep running while their classmates are
    graded, processes starting), and the extra worker uses the cores meanwhile."""
    return len(os.sched_getaffinity(0)) + 1


def process_watching_group(path: Path) -> str | None:
    """The group of the tests in this file, if they must run one after another on one worker (see above)."""
    return PROCESS_WATCHING_GROUPS.get(path.name)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with the process-watching group(s) and the whole modules as well.

    The groups first, then the largest units (xdist's default order, by number of tests): a group
    is a long run on one worker (the attacks take a third of the suite's CPU), and started late it
    would still be running when the other workers have finished. The units are decided here, on
    the controller, from each test's file. xdist's own way (an ``xdist_group`` marker, which its
    workers append to the node id as ``@group``) silently groups nothing with pytest 9.2, whose node
    ids no longer take that change (pytest-xdist issue 1386).
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ProcessWatchersTogether(LoadGroupScheduling):
        groups_first = False

        def _assign_work_unit(self, node: Any) -> None:
            if not self.groups_first:
                self.groups_first = True
                for scope in reversed([scope for scope in self.workqueue if scope.startswith(GROUP_SCOPES)]):
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

        def _split_scope(self, nodeid: str) -> str:
            path = Path(nodeid.split("::", 1)[0])
            group = process_watching_group(path)
            if group is not None:
                return f"{GROUP_SCOPES[0]} {group}"
            if path.name in SHARED_SET_UP:
                return f"{GROUP_SCOPES[1]} {SHARED_SET_UP[path.name]}"
            return str(path) if path.name in WHOLE_MODULES else super()._split_scope(nodeid)

    return ProcessWatchersTogether(config, log)


@pytest.fixture(autouse=True)
def process_watchers_keep_to_one_worker(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Fail a process-watching test that runs on another worker than the first one of its group did.

    The first test of each group claims the group for its worker in the session's shared temporary
    folder; should the grouping ever stop holding (another ``--dist`` mode, a new xdist), the tests
    say so instead of failing at random as they kill each other's jobs.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    group = process_watching_group(request.path)
    if worker is None or group is None:
        return
    claim = tmp_path_factory.getbasetemp().parent / f"process-watchers-{group}.worker"
    draft = claim.with_name(f"{claim.name}.{worker}")
    draft.write_text(worker, encoding="utf-8")
    try:
        os.link(draft, claim)  # atomic: the file appears with its content, or not at all
    except FileExistsError:
        owner = claim.read_text(encoding="utf-8")
        if owner != worker:
            pytest.fail(
                f"the {group} tests run on {owner} and on {worker}: they must share one worker "
                f"(run with --dist loadgroup, as pyproject.toml says, or with -n 0)"
            )


_RUN_HOME = tempfile.TemporaryDirectory(prefix="quizkit-tests-home-")


def pytest_configure(config: pytest.Config) -> None:
    """No test writes into the real user's quizkit folder (progress, the grading key, caches), not
    even while modules are collected: unless a test gives its own (the ``home`` fixture), the run
    has one of its own, shared by its tests and removed at the end.

    quizkit's modules are compiled to bytecode first, once (in the controller when xdist runs), as
    installing a package does. The suite starts Python a few hundred times (console scripts, fork
    servers, SymPy workers); in an editable install in a fresh checkout, or with
    PYTHONDONTWRITEBYTECODE set, each of them would compile quizkit's modules again (about 60 ms of
    CPU for a command's imports, 13 ms for a fork server's script)."""
    os.environ["QUIZKIT_HOME"] = _RUN_HOME.name
    if not hasattr(config, "workerinput"):
        compileall.compile_dir(Path(quizkit.__file__).parent, quiet=2)


def pytest_unconfigure(config: pytest.Config) -> None:
    _RUN_HOME.cleanup()


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
