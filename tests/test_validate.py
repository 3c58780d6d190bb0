"""`quizkit validate`: every kind of mistake in a lesson is reported once, at the right place.

The lessons here are the tests' own, trusted code, so their references, starters and mutants run in
this process (an InProcessRunner stands in for the sandbox), and the answer keys of every run are
checked by one warm SymPy worker instead of a new one per run; tests marked ``slow`` use the real
sandbox and a checker of their own.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner, Result

from quizkit.cli import main
from quizkit.sandbox import InProcessRunner
from quizkit.symbolic import SymbolicChecker
from quizkit.validate import LessonTarget, ValidateOptions, validate_lessons

# Mutants run in this process here, and some divide by zero on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


class InProcessSandbox(InProcessRunner):
    """Stands in for SubprocessRunner: same constructor, runs the (trusted) test lessons in process."""

    warning: str | None = None
    created: ClassVar[list[str]] = []

    def __init__(self, *, isolation: str = "preferred", **_: object) -> None:
        InProcessSandbox.created.append(isolation)


class LentChecker:
    """Stands in for ``SymbolicChecker()``: lends a running checker for one validate run, and leaves it running.

    Starting a checker is what makes a validate run take a second (two workers load SymPy); the
    checks themselves are what these tests are about, and they still run in a real worker.
    """

    def __init__(self, checker: SymbolicChecker) -> None:
        self.checker = checker

    def __enter__(self) -> SymbolicChecker:
        return self.checker

    def __exit__(self, *exc_info: object) -> None:
        pass


@pytest.fixture(scope="module")
def warm_checker() -> Iterator[SymbolicChecker]:
    # No spare worker: no check here is meant to time out, and a spare costs another SymPy start.
    with SymbolicChecker(spare=False) as checker:
        yield checker


@pytest.fixture(autouse=True)
def in_process_sandbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("slow") is None:
        import quizkit.sandbox
        import quizkit.symbolic

        monkeypatch.setattr(quizkit.sandbox, "SubprocessRunner", InProcessSandbox)
        checker = request.getfixturevalue("warm_checker")
        monkeypatch.setattr(quizkit.symbolic, "SymbolicChecker", lambda **_: LentChecker(checker))


# The small clamp exercise these tests build their course around.
REFERENCE = (Path(__file__).parent / "data" / "clamp_reference.py").read_text(encoding="utf-8")
STARTER = "def clamp(before, after):\n    raise NotImplementedError\n"
EDGE_CASES = """\
      - name: starting at zero is not a flip
        args: {before: [0.0, 0.0], after: [0.3, -0.3]}
      - name: ending at zero is not a flip
        args: {before: [0.3, -0.3], after: [0.0, 0.0]}
"""
QUESTIONS = """\
  - id: pick
    type: choice
    prompt: Which penalty gives exact zeros?
    options:
      - text: L1
        correct: true
      - text: L2
  - id: grad
    type: symbolic
    prompt: Give d/dw of lam*|w| for w != 0.
    variables: {w: real, lam: positive}
    answer: lam*sign(w)
    wrong_answers:
      - answer: 2*lam*w
        feedback: That is the L2 gradient.
"""


def exercise_yaml(edge_cases: str = EDGE_CASES) -> str:
    return (
        """\
  - id: clamp
    title: Clamp
    prompt: Zero the entries whose sign flipped.
    parameters: [before, after]
    time_limit: 1
    cases:
      - name: one flip
        args: {before: [0.5, -0.3, 0.2], after: [-0.1, -0.2, 0.1]}
      - name: scalars
        args: {before: 0.2, after: -0.1}
"""
        + edge_cases
    )


def write_course(
    root: Path,
    questions: str = QUESTIONS,
    exercises: str | None = None,
    reference: str | None = REFERENCE,
    starter: str = STARTER,
) -> Path:
    """A course with one lesson 'demo'; returns the lesson file."""
    lesson_dir = root / "exercises" / "demo"
    lesson_dir.mkdir(parents=True)
    (root / "solutions" / "demo").mkdir(parents=True)
    text = (
        "id: demo\ntitle: Demo\nquestions:\n"
        + questions
        + "exercises:\n"
        + (exercise_yaml() if exercises is None else exercises)
    )
    (lesson_dir / "lesson.yaml").write_text(text, encoding="utf-8")
    (lesson_dir / "clamp.py").write_text(starter, encoding="utf-8")
    if reference is not None:
        (root / "solutions" / "demo" / "clamp.py").write_text(reference, encoding="utf-8")
    return lesson_dir / "lesson.yaml"


def position(path: Path, needle: str, occurrence: int = 1) -> str:
    """``path:line:col`` of the n-th occurrence of ``needle`` (the column of its first character)."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return f"{path}:{number}:{line.index(needle) + 1}"
    raise AssertionError(f"{needle!r} not in {path}")


def validate(*args: object) -> Result:
    return CliRunner().invoke(main, ["validate", *(str(a) for a in args)], catch_exceptions=False)


def broken_lesson(tmp_path: Path, old: str, new: str) -> Path:
    """The demo lesson with one edit; mutants are not needed to find schema or key problems."""
    lesson = write_course(tmp_path)
    text = lesson.read_text(encoding="utf-8")
    assert old in text
    lesson.write_text(text.replace(old, new, 1), encoding="utf-8")
    return lesson


# --- a clean lesson ---------------------------------------------------------------------------


def test_a_clean_lesson_passes_every_check_and_exits_0(tmp_path: Path) -> None:
    lesson = write_course(tmp_path)
    result = validate(lesson)
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output
    for check in (
        "lesson file",
        "answer keys",
        "clamp: reference",
        "clamp: starter",
        "clamp: mutants",
        "clamp: random cases",
    ):
        assert f"✓ {check}" in result.output


def test_without_a_path_every_lesson_of_the_course_is_checked(tmp_path: Path) -> None:
    write_course(tmp_path)
    result = CliRunner().invoke(main, ["--course", str(tmp_path), "validate", "--no-mutants"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "(demo)" in result.output


def test_a_lesson_folder_is_accepted_as_well_as_its_file(tmp_path: Path) -> None:
    lesson = write_course(tmp_path)
    assert validate(lesson.parent, "--no-mutants").exit_code == 0


def test_a_missing_lesson_is_a_usage_error(tmp_path: Path) -> None:
    result = validate(tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "no such lesson file" in result.output
    assert "Traceback" not in result.output


# --- schema problems --------------------------------------------------------------------------


# (edit: text replaced in the demo lesson, where: text the problem points at and which occurrence, message)
SCHEMA_MISTAKES = {
    "unknown key": (
        ("    prompt: Which penalty", "    hint: [think]\n    prompt: Which penalty"),
        ("hint:", 1),
        "unknown key 'hint' in choice question (did you mean 'hints'?)",
    ),
    "wrong type": (("    time_limit: 1", "    time_limit: soon"), ("soon", 1), "expected a number"),
    "duplicate id": (("  - id: grad", "  - id: pick"), ("pick", 2), "duplicate id 'pick'"),
    "missing answer": (("    answer: lam*sign(w)\n", ""), ("id: grad", 1), "missing required key 'answer'"),
    "no correct option": (
        ("        correct: true\n", ""),
        ("- text: L1", 1),
        "a choice question needs exactly one correct option",
    ),
    "yes as a boolean": (("correct: true", "correct: yes"), ("yes", 1), "write true or false, not 'yes'"),
}


@pytest.mark.parametrize("mistake", list(SCHEMA_MISTAKES))
def test_a_mistake_in_the_lesson_file_is_reported_where_it_is(tmp_path: Path, mistake: str) -> None:
    (old, new), (needle, occurrence), message = SCHEMA_MISTAKES[mistake]
    lesson = broken_lesson(tmp_path, old, new)
    result = validate(lesson, "--no-mutants")
    assert result.exit_code == 1
    assert f"{position(lesson, needle, occurrence)}: {message}" in result.output


def test_checks_that_need_a_loaded_lesson_are_skipped_when_the_file_has_problems(tmp_path: Path) -> None:
    lesson = broken_lesson(tmp_path, "correct: true", "correct: yes")
    result = validate(lesson)
    assert "clamp: reference" not in result.output
    assert "not run: fix the lesson file first" in result.output


# --- answer keys ------------------------------------------------------------------------------


def test_a_symbolic_key_with_an_undeclared_symbol_is_reported_at_the_key(tmp_path: Path) -> None:
    lesson = broken_lesson(tmp_path, "answer: lam*sign(w)", "answer: alpha*lam*sign(w)")
    result = validate(lesson, "--no-mutants")
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.strip().startswith(position(lesson, "alpha*lam")))
    assert "alpha" in line


def test_a_wrong_answer_equal_to_the_key_is_reported_at_that_wrong_answer(tmp_path: Path) -> None:
    lesson = broken_lesson(tmp_path, "answer: 2*lam*w", "answer: lam*w/Abs(w)")
    result = validate(lesson, "--no-mutants")
    assert result.exit_code == 1
    assert (
        f"{position(lesson, 'lam*w/Abs(w)')}: the wrong answer 'lam*w/Abs(w)' is equivalent to the answer key"
        in result.output
    )


def test_validate_composes_the_lesson_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from quizkit import rawyaml

    calls: list[str] = []
    real_load = rawyaml.load

    def counted(text: str, path: str) -> object:
        calls.append(path)
        return real_load(text, path)

    monkeypatch.setattr(rawyaml, "load", counted)
    lesson = broken_lesson(tmp_path, "answer: 2*lam*w", "answer: lam*w/Abs(w)")
    [report] = validate_lessons([LessonTarget(lesson)], ValidateOptions(mutants=False))
    assert not report.ok and calls == [str(lesson)]


def test_a_wrong_answer_is_placed_on_its_line_when_the_lesson_comes_from_the_cache(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quizkit import rawyaml

    lesson = broken_lesson(tmp_path, "answer: 2*lam*w", "answer: lam*w/Abs(w)")
    validate_lessons([LessonTarget(lesson)], ValidateOptions(mutants=False))  # composes and caches the tree

    def no_composing(text: str, path: str) -> None:
        raise AssertionError("the cached tree should have been used")

    monkeypatch.setattr(rawyaml, "_compose", no_composing)
    [report] = validate_lessons([LessonTarget(lesson)], ValidateOptions(mutants=False))
    [problem] = report.problems
    assert str(problem).startswith(f"{position(lesson, 'lam*w/Abs(w)')}: the wrong answer")


# --- exercises --------------------------------------------------------------------------------


def test_a_missing_reference_is_reported(tmp_path: Path) -> None:
    lesson = write_course(tmp_path, reference=None)
    result = validate(lesson)
    assert result.exit_code == 1
    assert f"{position(lesson, 'id: clamp')}: reference solution not found" in result.output


def test_a_reference_that_raises_on_a_case_is_reported_with_the_case(tmp_path: Path) -> None:
    raising = REFERENCE.replace("    return", "    if not after.all():\n        raise ValueError('zero')\n    return")
    lesson = write_course(tmp_path, reference=raising)
    result = validate(lesson)
    assert result.exit_code == 1
    assert f"{position(lesson, 'id: clamp')}: reference solution" in result.output
    assert "ending at zero is not a flip" in result.output


def test_a_reference_that_fails_its_cases_in_the_sandbox_is_reported_at_the_case(tmp_path: Path) -> None:
    # Different in every process: the expected values (computed once) are not reproduced when graded.
    noisy = REFERENCE.replace("return np.where", "return np.random.default_rng().random() + np.where")
    lesson = write_course(tmp_path, reference=noisy)
    result = validate(lesson)
    assert result.exit_code == 1
    assert f"{position(lesson, 'name: one flip')}: the reference fails 'one flip'" in result.output


def test_a_starter_that_already_passes_is_reported(tmp_path: Path) -> None:
    lesson = write_course(tmp_path, starter=REFERENCE)
    result = validate(lesson, "--no-mutants")
    assert result.exit_code == 1
    assert f"{position(lesson, 'id: clamp')}: the starter file" in result.output
    assert "already gets full marks" in result.output


def test_random_cases_that_are_not_reproducible_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from quizkit import exercises

    random_block = textwrap.dedent(
        """\
            random:
              - name: noise
                seed: 1
                count: 2
                args:
                  before: {low: -1, high: 1}
                  after: {low: -1, high: 1}
        """
    )
    random_block = textwrap.indent(random_block, "    ")
    lesson = write_course(tmp_path, exercises=exercise_yaml() + random_block)
    unseeded = np.random.default_rng()
    monkeypatch.setattr(
        exercises,
        "draw_random_cases",
        lambda group, parameters, grade_seed=None: [(unseeded.random(), unseeded.random())],
    )
    [report] = validate_lessons([LessonTarget(lesson)], ValidateOptions(mutants=False))
    problems = [str(p) for p in report.problems]
    assert problems == [
        f"{position(lesson, 'name: noise')}: random block 'noise' draws different values from the same seed"
    ]


def test_a_missing_edge_case_is_reported_as_a_surviving_mutant_with_a_case_that_catches_it(tmp_path: Path) -> None:
    lesson = write_course(tmp_path, exercises=exercise_yaml(edge_cases=""))
    result = validate(lesson)
    assert result.exit_code == 1
    reference = tmp_path / "solutions" / "demo" / "clamp.py"
    expected = (
        f"{position(reference, 'before * after < 0')}: surviving mutant `before * after < 0` → `before * after <= 0`"
    )
    survivor = next(line.strip() for line in result.output.splitlines() if expected in line)
    assert "a case that catches it: args: {before: [" in survivor


def test_json_output_lists_every_problem_with_its_position(tmp_path: Path) -> None:
    lesson = broken_lesson(tmp_path, "correct: true", "correct: yes")
    result = validate(lesson, "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    [checked] = report["lessons"]
    [problem] = checked["checks"][0]["problems"]
    line, column = position(lesson, "yes").split(":")[-2:]
    assert (problem["line"], problem["column"]) == (int(line), int(column))
    assert problem["message"] == "write true or false, not 'yes'"


@pytest.mark.slow
def test_lesson3_validates_clean() -> None:
    root = Path(__file__).resolve().parent.parent
    result = CliRunner().invoke(main, ["--course", str(root), "validate"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "survive" not in result.output


def test_problems_are_written_as_file_line_column_message(tmp_path: Path) -> None:
    lesson = broken_lesson(tmp_path, "correct: true", "correct: yes")
    result = validate(lesson, "--no-mutants")
    problem_lines = [line.strip() for line in result.output.splitlines() if line.strip().startswith(str(lesson))]
    assert problem_lines and all(line.count(":") >= 3 for line in problem_lines)
    assert textwrap.dedent(result.output).count("✗") >= 1


def test_validate_runs_code_with_isolation_where_available_and_says_once_when_it_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(InProcessSandbox, "warning", "no user namespaces here: learner code is not isolated")
    InProcessSandbox.created = []
    result = validate(write_course(tmp_path))
    assert InProcessSandbox.created == ["preferred"]
    assert result.output.count("quizkit: warning: no user namespaces here") == 1


def test_validate_library_takes_the_runner_it_is_given(tmp_path: Path) -> None:
    InProcessSandbox.created = []
    with InProcessRunner() as runner:
        [report] = validate_lessons([LessonTarget(write_course(tmp_path))], ValidateOptions(mutants=False), runner)
    assert report.ok and InProcessSandbox.created == []
