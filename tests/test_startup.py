"""What starts when: helper processes start before the work that waits for them, and not before
the first thing a learner sees when nothing waits for them yet."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import Result

import quizkit.sandbox
import quizkit.symbolic
from quizkit.console import command_word

REPO = Path(__file__).resolve().parent.parent


# --- reading the command word before click ---------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["submit", "lesson3", "soft_threshold.py"], "submit"),
        (["--course", "/some/course", "submit", "x.py"], "submit"),
        (["--course=/some/course", "submit", "x.py"], "submit"),
        (["--course", "submit", "take", "lesson3"], "take"),  # a course folder named "submit"
        (["take", "lesson3"], "take"),
        ([], None),
        (["--course"], None),
    ],
)
def test_the_command_word_is_read_past_the_group_options(argv: list[str], word: str | None) -> None:
    assert command_word(argv) == word


@pytest.mark.parametrize(
    "argv",
    [
        ["submit", "--help"],
        ["-h", "submit"],
        ["--version"],
        ["--colour", "submit", "x.py"],  # an option quizkit does not have: click must say so
    ],
)
def test_help_or_an_unknown_option_starts_nothing_early(argv: list[str]) -> None:
    assert command_word(argv) is None


# --- the prestarted runner -----------------------------------------------------------------------


class CountingRunner:
    """Stands in for SubprocessRunner: counts constructions and closes."""

    made: ClassVar[list[CountingRunner]] = []

    def __init__(self, *, isolation: str) -> None:
        self.isolation = isolation
        self.hidden_paths = (os.getcwd(),)
        self.closed = False
        CountingRunner.made.append(self)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def counting_runner(monkeypatch: pytest.MonkeyPatch) -> type[CountingRunner]:
    CountingRunner.made = []
    monkeypatch.setattr(quizkit.sandbox, "SubprocessRunner", CountingRunner)
    monkeypatch.setattr(quizkit.sandbox, "_prestarted", {})
    return CountingRunner


def test_the_prestarted_runner_is_the_one_the_command_gets(counting_runner: type[CountingRunner]) -> None:
    quizkit.sandbox.prestart(isolation="preferred")
    runner = quizkit.sandbox.prestarted(isolation="preferred")
    assert counting_runner.made == [runner]
    assert quizkit.sandbox.prestarted(isolation="preferred") is not runner  # handed out once only


def test_a_runner_prestarted_in_another_directory_is_closed_and_replaced(
    counting_runner: type[CountingRunner], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quizkit.sandbox.prestart(isolation="preferred")
    monkeypatch.chdir(tmp_path)
    runner = quizkit.sandbox.prestarted(isolation="preferred")
    first, second = counting_runner.made
    assert first.closed and runner is second and runner.hidden_paths == (str(tmp_path),)


def test_a_runner_prestarted_with_other_settings_is_not_handed_out(counting_runner: type[CountingRunner]) -> None:
    quizkit.sandbox.prestart(isolation="required")
    runner = quizkit.sandbox.prestarted(isolation="preferred")
    assert runner.isolation == "preferred"


# --- take: the SymPy worker waits until the first item is done -------------------------------------


class RecordingChecker:
    """Stands in for SymbolicChecker: records when it is started, answers nothing."""

    events: ClassVar[list[str]] = []

    def __init__(self, *_: object, **__: object) -> None:
        pass

    def start(self) -> None:
        RecordingChecker.events.append("started")

    def close(self, *_: object, **__: object) -> None:
        pass


@pytest.fixture
def recording_checker(monkeypatch: pytest.MonkeyPatch) -> type[RecordingChecker]:
    RecordingChecker.events = []
    monkeypatch.setattr(quizkit.symbolic, "SymbolicChecker", RecordingChecker)
    return RecordingChecker


def test_take_shows_the_first_question_without_starting_the_symbolic_worker(
    invoke_cli: Callable[..., Result], recording_checker: type[RecordingChecker]
) -> None:
    result = invoke_cli("--course", REPO, "take", "lesson3", input="q\n")
    assert result.exit_code == 0, result.output
    assert "[1/" in result.output
    assert recording_checker.events == []


def test_take_starts_the_symbolic_worker_once_the_first_item_is_answered(
    invoke_cli: Callable[..., Result], recording_checker: type[RecordingChecker]
) -> None:
    result = invoke_cli(
        "--course", REPO, "take", "lesson3", input="0\n\n0\nq\n"
    )  # answer, Enter at the reading, answer
    assert result.exit_code == 0, result.output
    assert "[2/" in result.output
    assert recording_checker.events == ["started"]
