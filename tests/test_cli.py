"""The command line through click's CliRunner: list, check, submit's usage errors, --help, --version."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import Result

from quizkit import __version__

Run = Callable[..., Result]


def assert_one_line_usage_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("quizkit: error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


# --- list -------------------------------------------------------------------------------------


def test_list_shows_counts_and_not_started(run_cli: Run) -> None:
    result = run_cli("list")
    assert result.exit_code == 0
    [line] = [line for line in result.output.splitlines() if "demo" in line and "Demo lesson" in line]
    assert "3 questions, 1 exercise" in line
    assert "not started" in line


def test_list_names_the_course_and_how_it_was_found(run_cli: Run, course_dir: Path) -> None:
    assert run_cli("list").output.splitlines()[0] == f"Course: {course_dir.resolve()} (--course)"


def test_list_shows_progress_after_one_answer(run_cli: Run) -> None:
    run_cli("take", "demo", input="b\nq\n")
    line = next(line for line in run_cli("list").output.splitlines() if "Demo lesson" in line)
    assert "1/4 done" in line
    assert "score 1/4" in line


def test_list_reports_a_broken_lesson_and_exits_1(run_cli: Run, course_dir: Path) -> None:
    broken = course_dir / "exercises" / "broken"
    broken.mkdir()
    (broken / "lesson.yaml").write_text("id: broken\ncolour: red\n", encoding="utf-8")
    result = run_cli("list")
    assert result.exit_code == 1
    assert "Demo lesson" in result.output  # the other lessons are still listed
    line = next(line for line in result.output.splitlines() if line.strip().startswith("broken"))
    assert "2 problem(s)" in line and "quizkit validate" in line


def test_list_reports_a_damaged_progress_file(run_cli: Run, home: Path) -> None:
    (home / "progress").mkdir(parents=True)
    (home / "progress" / "demo.json").write_text("{", encoding="utf-8")
    line = next(line for line in run_cli("list").output.splitlines() if "Demo lesson" in line)
    assert "damaged" in line


def test_list_shows_the_real_lesson3(invoke_cli: Run) -> None:
    repo = Path(__file__).resolve().parent.parent
    result = invoke_cli("--course", repo, "list")
    assert result.exit_code == 0
    assert "lesson3" in result.output
    assert "L1 regularization" in result.output


# --- check ------------------------------------------------------------------------------------


def test_check_correct_answer_exits_0(run_cli: Run) -> None:
    result = run_cli("check", "demo", "pick-one", "b")
    assert result.exit_code == 0
    assert "Correct" in result.output


def test_check_wrong_answer_exits_1_with_feedback(run_cli: Run) -> None:
    result = run_cli("check", "demo", "step-size", "0.7")
    assert result.exit_code == 1
    assert "You added the step instead of subtracting it." in result.output


def test_check_invalid_answer_exits_1_and_says_it_could_not_be_read(run_cli: Run) -> None:
    result = run_cli("check", "demo", "step-size", "abc")
    assert result.exit_code == 1
    assert "Could not read that answer" in result.output


def test_check_uses_file_order_letters(run_cli: Run) -> None:
    assert run_cli("check", "demo", "pick-many", "a,c").exit_code == 0


def test_check_json_has_the_verdict_keys(run_cli: Run) -> None:
    result = run_cli("check", "demo", "pick-one", "b", "--json")
    data = json.loads(result.stdout)
    assert {"status", "score", "max_score", "feedback", "interpreted_as"} <= data.keys()
    assert data["status"] == "correct"
    assert (data["score"], data["max_score"]) == (1, 1)
    assert data["interpreted_as"] == "b) The L1 penalty"


@pytest.mark.parametrize(
    ("question", "answer", "status", "exit_code"),
    [
        ("pick-one", "b", "correct", 0),
        ("pick-one", "a", "incorrect", 1),
        ("pick-one", "z", "invalid", 1),
        ("pick-many", "a", "partial", 1),
        ("step-size", "3/10", "correct", 0),
        ("step-size", "0.7", "incorrect", 1),
        ("step-size", "zero point three", "invalid", 1),
    ],
)
def test_check_json_status_and_exit_code(run_cli: Run, question: str, answer: str, status: str, exit_code: int) -> None:
    result = run_cli("check", "demo", question, answer, "--json")
    assert json.loads(result.stdout)["status"] == status
    assert result.exit_code == exit_code


def test_check_json_feedback_is_a_list(run_cli: Run) -> None:
    data = json.loads(run_cli("check", "demo", "step-size", "0.7", "--json").stdout)
    assert data["feedback"] == ["You added the step instead of subtracting it."]
    assert data["score"] == 0


def test_check_unknown_lesson_exits_2_naming_existing_lessons(run_cli: Run) -> None:
    assert_one_line_usage_error(run_cli("check", "nope", "pick-one", "b"), "unknown lesson 'nope'", "demo")


def test_check_unknown_question_exits_2_naming_existing_questions(run_cli: Run) -> None:
    result = run_cli("check", "demo", "nope", "b")
    assert_one_line_usage_error(result, "unknown question 'nope'", "pick-one, pick-many, step-size")


def test_check_on_a_broken_lesson_exits_1_with_positions(run_cli: Run, course_dir: Path) -> None:
    path = course_dir / "exercises" / "demo" / "lesson.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("shuffle: false", "shufle: false", 1), encoding="utf-8")
    result = run_cli("check", "demo", "pick-one", "b")
    assert result.exit_code == 1
    assert f"{path}:9:5: unknown key 'shufle'" in result.stderr
    assert "Traceback" not in result.output


# --- take and submit usage errors -------------------------------------------------------------


def test_take_unknown_lesson_exits_2_naming_existing_lessons(run_cli: Run) -> None:
    assert_one_line_usage_error(run_cli("take", "lesson99"), "unknown lesson 'lesson99'", "demo")


def test_submit_missing_file_exits_2_with_one_line(run_cli: Run, tmp_path: Path) -> None:
    missing = tmp_path / "double.py"
    # A long path is shortened in the middle to keep the line short; its end names the file.
    assert_one_line_usage_error(run_cli("submit", "demo", missing), "no such file: ", f"{missing.name}")


def test_submit_missing_file_without_lesson_exits_2_with_one_line(run_cli: Run, tmp_path: Path) -> None:
    missing = tmp_path / "double.py"
    assert_one_line_usage_error(run_cli("submit", missing), "no such file: ", f"{missing.name}")


def test_submit_unknown_lesson_exits_2_with_one_line(run_cli: Run, tmp_path: Path) -> None:
    assert_one_line_usage_error(run_cli("submit", "nope", tmp_path / "double.py"), "unknown lesson 'nope'")


def test_unknown_command_is_a_usage_error(run_cli: Run) -> None:
    result = run_cli("frobnicate")
    assert result.exit_code == 2
    assert "No such command" in result.output


# --- help and version -------------------------------------------------------------------------


def test_version(invoke_cli: Run) -> None:
    result = invoke_cli("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"quizkit, version {__version__}"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_learner_commands(invoke_cli: Run, flag: str) -> None:
    result = invoke_cli(flag)
    assert result.exit_code == 0
    for command in ("list", "take", "check", "submit"):
        assert f"  {command} " in result.output


@pytest.mark.parametrize("command", ["list", "take", "check", "submit"])
def test_each_command_has_help(invoke_cli: Run, command: str) -> None:
    result = invoke_cli(command, "--help")
    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: quizkit {command}")


def test_list_ignores_progress_for_removed_questions(run_cli: Run, home: Path) -> None:
    record = {"status": "correct", "score": 1, "max_score": 1}
    document = {"version": 1, "lesson": "demo", "seed": 1, "items": {"removed-question": record}}
    (home / "progress").mkdir(parents=True)
    (home / "progress" / "demo.json").write_text(json.dumps(document), encoding="utf-8")
    line = next(line for line in run_cli("list").output.splitlines() if "Demo lesson" in line)
    assert "0/4 done, score 0/4" in line


# --- isolation where it is missing: submit and take warn once and run ---------------------------


class WarningSandbox:
    """Stands in for SubprocessRunner on a machine without OS isolation (runs the demo in process)."""

    modes: ClassVar[list[str]] = []

    def __init__(self, *, isolation: str = "preferred", **_: object) -> None:
        from quizkit.sandbox import InProcessRunner

        WarningSandbox.modes.append(isolation)
        self._inner = InProcessRunner()
        self.warning = "no user namespaces on this machine: your code runs with process limits only"

    def run(self, job):  # type: ignore[no-untyped-def]
        return self._inner.run(job)

    def run_many(self, jobs, workers=2):  # type: ignore[no-untyped-def]
        return self._inner.run_many(jobs, workers)

    def close(self) -> None:
        pass

    def abandon(self) -> None:
        pass

    def __enter__(self) -> WarningSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


@pytest.fixture
def warning_sandbox(monkeypatch: pytest.MonkeyPatch) -> type[WarningSandbox]:
    import quizkit.sandbox

    WarningSandbox.modes = []
    monkeypatch.setattr(quizkit.sandbox, "SubprocessRunner", WarningSandbox)
    return WarningSandbox


def test_submit_prefers_isolation_and_warns_once_on_stderr_when_it_is_missing(
    run_cli: Run, tmp_path: Path, warning_sandbox: type[WarningSandbox]
) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "double.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    result = run_cli("submit", "demo", tmp_path / "a" / "double.py", tmp_path / "b" / "double.py")
    assert result.exit_code == 0, result.output
    assert warning_sandbox.modes == ["preferred"]
    assert result.stderr.count("quizkit: warning: no user namespaces") == 1
    assert "no user namespaces" not in result.stdout


def test_take_prefers_isolation_and_warns_once_on_stderr_when_it_is_missing(
    run_cli: Run, home: Path, warning_sandbox: type[WarningSandbox]
) -> None:
    run_cli("take", "demo", input="b\na,c\n0.3\ns\n")  # creates the workspace copy of the starter
    (home / "workspace" / "demo" / "double.py").write_text("def double(x):\n    return 3 * x\n", encoding="utf-8")
    warning_sandbox.modes.clear()
    result = run_cli("take", "demo", input="\n\ns\n")  # grade twice, then skip
    assert result.stdout.count("Grading ...") == 2
    assert warning_sandbox.modes == ["preferred"]
    assert result.stderr.count("quizkit: warning: no user namespaces") == 1


# --- OS-level errors on arguments ---------------------------------------------------------------

TOO_LONG = "a" * 300  # longer than any file name the system allows (255 bytes)


@pytest.mark.parametrize(
    "args",
    [
        ("take", TOO_LONG),
        ("check", TOO_LONG, "q", "1"),
        ("submit", TOO_LONG, "x.py"),
        ("submit", TOO_LONG),
        ("submit", "demo", TOO_LONG),
        ("validate", TOO_LONG),
        ("grade", TOO_LONG, "--lesson", "demo"),
    ],
    ids=["take", "check", "submit-lesson", "submit-first-file", "submit-file", "validate", "grade"],
)
def test_name_too_long_for_the_system_is_one_line_exit_2(run_cli: Run, args: tuple[str, ...]) -> None:
    assert_one_line_usage_error(run_cli(*args))


def test_course_name_too_long_is_one_line_exit_2(invoke_cli: Run) -> None:
    assert_one_line_usage_error(invoke_cli("--course", TOO_LONG, "list"), "File name too long")


def test_gradebook_name_too_long_is_one_line_exit_2(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("grade", tmp_path, "--lesson", "demo", "--out", tmp_path / TOO_LONG / "grades.csv")
    assert_one_line_usage_error(result, "gradebook", "File name too long")


def test_submit_a_directory_says_it_is_a_directory(run_cli: Run, tmp_path: Path) -> None:
    folder = tmp_path / "double.py"
    folder.mkdir()
    assert_one_line_usage_error(run_cli("submit", "demo", folder), "is a directory, not a file")


def test_submit_a_fifo_says_it_is_a_fifo(run_cli: Run, tmp_path: Path) -> None:
    fifo = tmp_path / "double.py"
    os.mkfifo(fifo)
    assert_one_line_usage_error(run_cli("submit", "demo", fifo), "is a FIFO (named pipe), not a file")


def test_submit_a_device_says_it_is_a_device(run_cli: Run) -> None:
    assert_one_line_usage_error(run_cli("submit", "demo", "/dev/null"), "is a character device, not a file")


def test_validate_a_device_says_it_is_not_a_lesson_file(run_cli: Run) -> None:
    assert_one_line_usage_error(run_cli("validate", "/dev/null"), "is a character device, not a lesson file")


def test_validate_a_folder_whose_lesson_yaml_is_a_directory(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "x" / "lesson.yaml").mkdir(parents=True)
    assert_one_line_usage_error(run_cli("validate", tmp_path / "x"), "lesson.yaml is a directory, not a lesson file")


def test_lesson_yaml_that_is_a_directory_is_reported_as_such(run_cli: Run, course_dir: Path) -> None:
    (course_dir / "exercises" / "odd" / "lesson.yaml").mkdir(parents=True)
    result = run_cli("take", "odd")
    assert result.exit_code == 1
    assert "unknown lesson" not in result.output
    assert "it is a directory, not a regular file" in result.stderr


def test_lesson_yaml_that_is_a_fifo_is_reported_without_blocking(
    run_quizkit: Callable[..., subprocess.CompletedProcess[str]], course_dir: Path
) -> None:
    (course_dir / "exercises" / "odd").mkdir()
    os.mkfifo(course_dir / "exercises" / "odd" / "lesson.yaml")
    listed = run_quizkit("--course", course_dir, "list")
    assert listed.returncode == 1
    assert "odd" in listed.stdout and "problem" in listed.stdout
    taken = run_quizkit("--course", course_dir, "take", "odd")
    assert taken.returncode == 1
    assert "FIFO" in taken.stderr and "Traceback" not in taken.stderr


# --- answers that start with a minus sign -------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent


def test_check_takes_a_negative_number_as_the_answer(invoke_cli: Run) -> None:
    result = invoke_cli("--course", REPO, "check", "lesson3", "l1-step-clamp", "-0.03", "--json")
    assert result.exit_code == 1
    verdict = json.loads(result.output)
    assert verdict["question"] == "l1-step-clamp" and verdict["status"] == "incorrect"


def test_check_takes_a_negative_expression_as_the_answer(invoke_cli: Run) -> None:
    result = invoke_cli("--course", REPO, "check", "lesson3", "l2-gradient", "-2λw")
    assert result.exit_code in (0, 1)
    assert "No such option" not in result.output
    assert "Read as" in result.output or "Your input was read as" in result.output


def test_check_negative_answer_on_the_demo_numeric_question(run_cli: Run) -> None:
    result = run_cli("check", "demo", "step-size", "-0.3")
    assert result.exit_code == 1
    assert "No such option" not in result.output


def test_check_answer_after_double_dash(run_cli: Run) -> None:
    assert run_cli("check", "demo", "step-size", "--", "0.3").exit_code == 0


def test_check_json_option_still_works_before_the_answer(run_cli: Run) -> None:
    result = run_cli("check", "--json", "demo", "step-size", "0.3")
    assert result.exit_code == 0
    assert json.loads(result.output)["status"] == "correct"


def test_check_help_mentions_double_dash(run_cli: Run) -> None:
    assert " -- " in run_cli("check", "--help").output


def test_check_symbolic_invalid_answer_shows_advice_and_a_caret(invoke_cli: Run) -> None:
    repo = Path(__file__).resolve().parent.parent
    result = invoke_cli("--course", repo, "check", "lesson3", "l1-gradient", "2λ.w")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "Use * or · to multiply, not '.'" in result.output
    assert lines[-2:] == ["    2λ.w", "      ^"]


def test_check_symbolic_label_and_full_stop_are_accepted(invoke_cli: Run) -> None:
    repo = Path(__file__).resolve().parent.parent
    result = invoke_cli("--course", repo, "check", "lesson3", "l1-gradient", "dL/dw = λ·sign(w).")
    assert result.exit_code == 0
    assert "Read as: λ·sign(w)" in result.output


def test_check_numeric_arithmetic_shows_the_computed_value(run_cli: Run) -> None:
    result = run_cli("check", "demo", "step-size", "0.5-0.2")
    assert result.exit_code == 0
    assert "Read as: 0.5-0.2 = 0.3" in result.output


def test_no_quizkit_error_class_takes_the_name_of_one_of_clicks() -> None:
    import inspect

    import click.exceptions

    from quizkit import errors

    ours = {name for name, value in vars(errors).items() if inspect.isclass(value) and issubclass(value, Exception)}
    clicks = {name for name, value in vars(click.exceptions).items() if inspect.isclass(value)}
    assert ours and not ours & clicks
