"""Specification of exercise grading: turning cases into calls, judging results, scoring, hints.

The judging rules are tested on hand-made sandbox outcomes (no code runs at all) or through the
in-process runner, which is fast; the learner suite at the bottom grades every file in
``tests/learners/`` through the real sandbox, exactly as ``quizkit submit`` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from quizkit.errors import InputError
from quizkit.exercises import (
    Call,
    CaseStatus,
    ExerciseResult,
    ReferenceSolutionError,
    build_calls,
    draw_random_cases,
    judge,
    judge_call,
    limits_for,
    plan_exercise,
    to_argument,
)
from quizkit.grading import exercise_for_file, grade_file, grade_files, grade_many
from quizkit.lesson import ArrayLiteral, Case, Exercise, Generator, Lesson, Mistake, RandomCases, Tolerance, load_lesson
from quizkit.mistakes import MAX_HINTS, diagnose
from quizkit.report import render_text
from quizkit.rules import TINY
from quizkit.sandbox import CallOutcome, InProcessRunner, Job, RunResult, RunStatus
from quizkit.verdict import Status

REPO = Path(__file__).resolve().parent.parent
LEARNERS = Path(__file__).resolve().parent / "learners"
LESSON3 = REPO / "exercises" / "lesson3" / "lesson.yaml"

SOFT_THRESHOLD = """\
import numpy as np


def soft_threshold(w, threshold):
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
"""


# ---------------------------------------------------------------------------------------------
# Helpers: a small exercise built in tmp_path, and hand-made sandbox outcomes
# ---------------------------------------------------------------------------------------------


# A typical mistake as a lesson file writes it: zero inside the threshold, w unchanged outside.
HARD_THRESHOLDING = Mistake(
    "this is hard thresholding: keep shrinking the survivors", "w*Max(sign(|w| - threshold), 0)"
)


def make_exercise(
    tmp_path: Path,
    cases: Sequence[tuple[str, dict[str, object]]] = (("basic", {"w": [2.0, -0.5, 0.3], "threshold": 0.5}),),
    random: Sequence[RandomCases] = (),
    reference: str = SOFT_THRESHOLD,
    points: float = 1.0,
    tolerance: Tolerance = Tolerance(abs=0.0, rel=1e-9),
    mistakes: Sequence[Mistake] = (HARD_THRESHOLDING,),
) -> Exercise:
    """A soft_threshold exercise whose reference lives in ``tmp_path``."""
    (tmp_path / "solutions").mkdir(exist_ok=True)
    reference_path = tmp_path / "solutions" / "soft_threshold.py"
    reference_path.write_text(reference)
    return Exercise(
        id="soft_threshold",
        title="Soft thresholding",
        prompt="Shrink toward zero.",
        points=points,
        parameters=("w", "threshold"),
        starter=tmp_path / "starter.py",
        reference=reference_path,
        hints=(),
        time_limit=2.0,
        memory_mb=256,
        tolerance=tolerance,
        cases=tuple(Case(name, tuple(args.items()), line) for line, (name, args) in enumerate(cases, 1)),
        random=tuple(random),
        line=1,
        mistakes=tuple(mistakes),
    )


def make_lesson(*exercises: Exercise) -> Lesson:
    return Lesson("demo", "Demo", "", Path("lesson.yaml"), (), tuple(exercises))


def outcome(
    value: object = None,
    *,
    returned: str | None = None,
    error: str | None = None,
    modified: tuple[bool, ...] = (False, False),
) -> CallOutcome:
    """What the sandbox reports for one call; ``value`` is decoded like the sandbox does."""
    array = None if value is None else np.asarray(value)
    return_type = returned or ("NoneType" if value is None else type(value).__name__)
    return CallOutcome(value=array, return_type=return_type, error=error, inputs_modified=modified, seconds=0.001)


def judged(
    expected: object,
    got: CallOutcome,
    args: tuple[object, ...] = (np.array([1.0, 2.0]), 0.5),
    tolerance: Tolerance = Tolerance(abs=0.0, rel=1e-9),
):
    call = Call("case", "case", args)
    return judge_call(
        call, tuple(zip(("w", "threshold"), args, strict=True)), np.asarray(expected, dtype=float), got, tolerance
    )


def run_result(
    outcomes: Sequence[CallOutcome], status: RunStatus = RunStatus.OK, message: str = "", output: str = ""
) -> RunResult:
    return RunResult(
        status=status, message=message, outcomes=tuple(outcomes), output=output, output_truncated=False, seconds=0.01
    )


class CannedRunner:
    """A Runner that returns prepared results and records the jobs it was given (runs no code)."""

    def __init__(self, results: Iterable[RunResult]) -> None:
        self.results = list(results)
        self.jobs: list[Job] = []

    def run(self, job: Job) -> RunResult:
        self.jobs.append(job)
        return self.results.pop(0)

    def run_many(self, jobs: Iterable[Job], workers: int = 2) -> Iterator[tuple[Job, RunResult]]:
        jobs = list(jobs)
        for job in reversed(jobs):  # out of order on purpose: results must be matched back to files
            yield job, self.run(job)


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path


# ---------------------------------------------------------------------------------------------
# Case values and random cases
# ---------------------------------------------------------------------------------------------


def test_a_number_is_passed_as_a_python_float() -> None:
    value = to_argument(2.0)
    assert type(value) is float and value == 2.0


def test_nested_lists_become_float64_arrays() -> None:
    value = to_argument([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(value, np.ndarray) and value.dtype == np.float64 and value.shape == (2, 2)


def test_an_empty_list_is_an_empty_float_vector() -> None:
    value = to_argument([])
    assert isinstance(value, np.ndarray) and value.shape == (0,) and value.dtype == np.float64


def test_a_bare_number_in_an_array_literal_is_a_0d_array() -> None:
    value = to_argument(ArrayLiteral(values=-4.0))
    assert isinstance(value, np.ndarray) and value.shape == () and float(value) == -4.0


def test_an_array_literal_shape_makes_an_empty_matrix() -> None:
    value = to_argument(ArrayLiteral(values=[], shape=(0, 3)))
    assert isinstance(value, np.ndarray) and value.shape == (0, 3)


def test_an_array_literal_keeps_its_dtype() -> None:
    value = to_argument(ArrayLiteral(values=[1.5, -0.25], dtype="float32"))
    assert isinstance(value, np.ndarray) and value.dtype == np.float32


def test_negative_zero_survives_as_negative_zero() -> None:
    assert math.copysign(1.0, to_argument(-0.0)) == -1.0  # type: ignore[arg-type]


def _block(seed: int = 7, count: int = 20, **w: object) -> RandomCases:
    generator = Generator(**{"shape": (50,), "low": -2.0, "high": 2.0, **w})  # type: ignore[arg-type]
    threshold = Generator(shape=None, low=0.1, high=1.0)
    return RandomCases("random", seed, count, (("w", generator), ("threshold", threshold)), 1)


def test_random_cases_are_reproducible_from_the_seed() -> None:
    first = draw_random_cases(_block(zeros=0.2, ties_with="threshold", ties=0.2), ("w", "threshold"))
    again = draw_random_cases(_block(zeros=0.2, ties_with="threshold", ties=0.2), ("w", "threshold"))
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(first, again, strict=True))


def test_different_seeds_draw_different_cases() -> None:
    first = draw_random_cases(_block(seed=1), ("w", "threshold"))
    other = draw_random_cases(_block(seed=2), ("w", "threshold"))
    assert not np.array_equal(first[0][0], other[0][0])


def test_random_values_lie_between_low_and_high() -> None:
    for w, threshold in draw_random_cases(_block(), ("w", "threshold")):
        assert np.all((w >= -2.0) & (w <= 2.0))  # type: ignore[operator]
        assert 0.1 <= threshold <= 1.0  # type: ignore[operator]


def test_the_zeros_fraction_sets_entries_to_exactly_zero() -> None:
    draws = draw_random_cases(_block(zeros=0.2), ("w", "threshold"))
    zeros = [int(np.sum(w == 0.0)) for w, _ in draws]  # type: ignore[call-overload]
    assert all(count in (10, 11) for count in zeros)  # 20% of 50, rounded either way


def test_the_ties_fraction_sets_entries_to_plus_or_minus_the_named_scalar() -> None:
    for w, threshold in draw_random_cases(_block(ties_with="threshold", ties=0.3), ("w", "threshold")):
        ties = np.abs(w) == threshold  # type: ignore[operator]
        assert int(ties.sum()) == 15
        assert set(np.sign(w[ties])) == {-1.0, 1.0}  # type: ignore[index]


def test_a_generator_without_shape_gives_a_python_float() -> None:
    block = RandomCases("scalars", 3, 5, (("w", Generator(None, -1, 1)), ("threshold", Generator(None, 0, 1))), 1)
    assert all(type(w) is float for w, _ in draw_random_cases(block, ("w", "threshold")))


def test_a_generator_with_empty_shape_gives_a_0d_array() -> None:
    block = RandomCases("0-d", 3, 5, (("w", Generator((), -1, 1)), ("threshold", Generator(None, 0, 1))), 1)
    assert all(isinstance(w, np.ndarray) and w.shape == () for w, _ in draw_random_cases(block, ("w", "threshold")))


def test_calls_are_explicit_cases_first_then_each_random_draw(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path, random=[_block(count=3)])
    calls, groups = build_calls(exercise)
    assert [call.name for call in calls] == ["basic", "random #1", "random #2", "random #3"]
    assert [(g.name, g.is_random, g.count) for g in groups] == [("basic", False, 1), ("random", True, 3)]


# ---------------------------------------------------------------------------------------------
# Planning: expected values from the reference
# ---------------------------------------------------------------------------------------------


def test_expected_values_come_from_the_reference(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path))
    assert plan.expected[0].tolist() == [1.5, 0.0, 0.0]


def test_the_plan_is_reused_for_the_same_exercise(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path)
    assert plan_exercise(exercise) is plan_exercise(exercise)


def test_every_job_of_a_plan_shares_its_read_only_arguments(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path))
    first, second = plan.job(tmp_path / "a.py"), plan.job(tmp_path / "b.py")
    assert first.calls is second.calls
    assert not first.calls[0][0].flags.writeable


def test_an_identical_result_passes_without_a_tolerance(tmp_path: Path) -> None:
    nan_and_inf = np.array([np.nan, np.inf, -0.0])
    case = judge_call(Call("c", "c", ()), (), nan_and_inf, outcome(nan_and_inf.copy()), Tolerance(abs=0.0, rel=0.0))
    assert case.status is CaseStatus.PASSED


def test_an_edited_reference_is_run_again(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path)
    before = plan_exercise(exercise)
    write(exercise.reference, SOFT_THRESHOLD.replace("0.0)", "0.0) * 2") + "\n# edited\n")
    assert plan_exercise(exercise).expected[0].tolist() == [3.0, 0.0, 0.0] != before.expected[0].tolist()


def test_a_missing_reference_is_a_reference_error(tmp_path: Path) -> None:
    exercise = replace(make_exercise(tmp_path), reference=tmp_path / "nowhere.py")
    with pytest.raises(ReferenceSolutionError, match="not found"):
        plan_exercise(exercise)


def test_a_reference_that_raises_is_a_reference_error_naming_the_case(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path, reference="def soft_threshold(w, threshold):\n    raise ValueError('bug')\n")
    with pytest.raises(ReferenceSolutionError, match="basic"):
        plan_exercise(exercise)


def test_limits_follow_the_exercise(tmp_path: Path) -> None:
    limits = limits_for(replace(make_exercise(tmp_path), time_limit=3.0, memory_mb=128))
    assert (limits.wall_seconds, limits.cpu_seconds, limits.memory_bytes) == (3.0, 3.0, 128 * 1024 * 1024)


# ---------------------------------------------------------------------------------------------
# Judging one call
# ---------------------------------------------------------------------------------------------


def test_right_values_pass() -> None:
    assert judged([1.5, 0.0], outcome(np.array([1.5, 0.0]))).passed


def test_a_tiny_value_where_zero_is_expected_fails_and_says_so() -> None:
    case = judged([1.5, 0.0], outcome(np.array([1.5, 1e-12])))
    assert not case.passed
    assert "exactly 0.0" in case.message and "tiny" in case.message and "1e-12" in case.message


def test_a_tiny_value_fails_even_with_a_generous_tolerance() -> None:
    case = judged([1.5, 0.0], outcome(np.array([1.5, 1e-12])), tolerance=Tolerance(abs=1e-3, rel=1e-3))
    assert not case.passed


def test_negative_zero_counts_as_zero() -> None:
    assert judged([1.5, 0.0], outcome(np.array([1.5, -0.0]))).passed


def test_a_value_within_the_relative_tolerance_passes() -> None:
    assert judged([0.3], outcome(np.array([0.1 + 0.2]))).passed


def test_a_value_beyond_the_tolerance_fails() -> None:
    case = judged([0.3], outcome(np.array([0.3001])))
    assert not case.passed and "1 of 1 entries differ" in case.message


def test_nan_where_a_number_is_expected_fails() -> None:
    case = judged([1.0, 2.0], outcome(np.array([np.nan, 2.0])))
    assert not case.passed and "nan or infinite" in case.message


def test_nan_and_inf_pass_where_they_are_expected() -> None:
    assert judged([np.nan, np.inf], outcome(np.array([np.nan, np.inf]))).passed


def test_a_float_or_0d_array_is_accepted_for_scalar_input() -> None:
    assert judged(0.5, outcome(0.5), args=(1.0, 0.5)).passed
    assert judged(0.5, outcome(np.array(0.5)), args=(1.0, 0.5)).passed


def test_an_array_of_shape_1_is_not_a_scalar_result() -> None:
    case = judged(0.5, outcome(np.array([0.5])), args=(1.0, 0.5))
    assert not case.passed and "shape (1,)" in case.message


def test_an_array_result_must_have_the_input_shape() -> None:
    case = judged(np.zeros((2, 3)), outcome(np.zeros(6)), args=(np.zeros((2, 3)), 0.5))
    assert not case.passed and "shape (6,)" in case.message and "(2, 3)" in case.message


def test_returning_none_fails_naming_none() -> None:
    case = judged([1.0], outcome(None))
    assert not case.passed and "returned None" in case.message


def test_returning_a_list_fails_naming_the_list() -> None:
    case = judged([1.0], CallOutcome(None, "list", None, (False, False), 0.0))
    assert not case.passed and "returned a list" in case.message


def test_a_value_the_sandbox_cannot_grade_fails_with_the_sandbox_note() -> None:
    note = "matrix is a subclass of ndarray; return a plain numpy array"
    case = judged([1.0], CallOutcome(None, "matrix", None, (False, False), 0.0, note=note))
    assert not case.passed and note in case.message


def test_an_exception_message_is_one_line_and_keeps_the_traceback() -> None:
    error = 'ValueError: bad\n  File "soft_threshold.py", line 4, in soft_threshold\n    raise ValueError("bad")'
    case = judged([1.0], outcome(error=error, returned=""))
    assert case.message == "raised ValueError: bad" and case.error == error


def test_an_exception_fails_with_its_message() -> None:
    case = judged([1.0], outcome(error="ZeroDivisionError: float division by zero", returned=""))
    assert not case.passed and "raised ZeroDivisionError: float division by zero" in case.message


def test_an_integer_result_with_the_right_values_passes() -> None:
    assert judged(0.0, outcome(0), args=(0.0, 0.5)).passed


def test_an_integer_result_with_wrong_values_mentions_its_dtype() -> None:
    case = judged([1.5, -0.5], outcome(np.array([1, 0])))
    assert not case.passed and "dtype int64" in case.message


def test_a_complex_result_fails() -> None:
    case = judged([1.0], outcome(np.array([1.0 + 0j])))
    assert not case.passed and "complex" in case.message


def test_modifying_an_input_fails_even_with_right_values() -> None:
    case = judged([1.5], outcome(np.array([1.5]), modified=(True, False)))
    assert not case.passed and "modified its input `w` in place" in case.message


def test_differences_list_the_first_few_entries_with_their_indices() -> None:
    expected = np.zeros((3, 4))
    got = np.full((3, 4), 0.5)
    case = judged(expected, outcome(got), args=(np.ones((3, 4)), 0.5))
    assert case.differing_count == 12
    assert len(case.differences) == 5
    assert case.differences[0].index == (0, 0) and case.differences[1].where == "[0, 1]"
    assert (case.differences[0].expected, case.differences[0].got) == (0.0, 0.5)


# ---------------------------------------------------------------------------------------------
# Judging a run: several cases, process death, scoring
# ---------------------------------------------------------------------------------------------

THREE_CASES = (
    ("first", {"w": [2.0], "threshold": 0.5}),
    ("second", {"w": [-2.0], "threshold": 0.5}),
    ("third", {"w": 3.0, "threshold": 1.0}),
)


def test_a_failing_case_does_not_stop_the_others_being_judged(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES))
    run = run_result([outcome(error="ValueError: boom", returned=""), outcome(np.array([-1.5])), outcome(2.0)])
    result = judge(plan, run, Path("soft_threshold.py"))
    assert [case.status for case in result.cases] == [CaseStatus.FAILED, CaseStatus.PASSED, CaseStatus.PASSED]


def test_when_the_process_dies_the_remaining_cases_are_not_run(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES))
    run = run_result([outcome(np.array([1.5]))], status=RunStatus.TIMEOUT, message="time limit of 2 s exceeded")
    result = judge(plan, run, Path("soft_threshold.py"))
    statuses = [case.status for case in result.cases]
    assert statuses == [CaseStatus.PASSED, CaseStatus.FAILED, CaseStatus.NOT_RUN]
    assert "time limit of 2 s exceeded" in result.cases[1].message
    assert result.run_message == "time limit of 2 s exceeded"


def test_a_file_that_does_not_load_runs_no_case(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES))
    run = run_result([], status=RunStatus.SYNTAX_ERROR, message="line 3: invalid syntax")
    result = judge(plan, run, Path("soft_threshold.py"))
    assert all(case.status is CaseStatus.NOT_RUN for case in result.cases)
    assert result.score == 0 and result.status is Status.INCORRECT


def test_missing_outcomes_of_a_normal_run_never_pass(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES))
    result = judge(plan, run_result([outcome(np.array([1.5]))]), Path("soft_threshold.py"))
    assert result.passed_groups == 1 and not result.is_correct


def test_the_score_is_points_times_the_fraction_of_groups_passed(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES, points=3.0))
    run = run_result([outcome(np.array([1.5])), outcome(np.array([0.0])), outcome(2.0)])
    result = judge(plan, run, Path("soft_threshold.py"))
    assert (result.score, result.max_score, result.status) == (2.0, 3.0, Status.PARTIAL)


def test_group_weights_set_each_groups_share_of_the_points(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path, cases=THREE_CASES, points=2.0)
    weighted = replace(
        exercise, cases=tuple(replace(case, weight=w) for case, w in zip(exercise.cases, (3.0, 0.5, 0.5), strict=True))
    )
    plan = plan_exercise(weighted)
    # only the first case (weight 3 of 4) passes
    run = run_result([outcome(np.array([1.5])), outcome(np.array([0.0])), outcome(0.0)])
    result = judge(plan, run, Path("soft_threshold.py"))
    assert [group.max_score for group in result.groups] == [1.5, 0.25, 0.25]
    assert (result.score, result.status) == (1.5, Status.PARTIAL)


def test_full_marks_are_exactly_the_points(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES, points=1.0))
    result = judge(plan, run_result([outcome(np.array([1.5])), outcome(np.array([-1.5])), outcome(2.0)]), Path("x.py"))
    assert result.score == 1.0 and result.status is Status.CORRECT


def test_no_group_passed_is_incorrect(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES))
    result = judge(plan, run_result([outcome(None)] * 3), Path("x.py"))
    assert result.status is Status.INCORRECT and result.score == 0


def test_a_random_block_passes_only_if_every_draw_passes(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path, cases=(), random=[_block(count=4)])
    plan = plan_exercise(exercise)
    outcomes = [outcome(value) for value in plan.expected]
    outcomes[2] = outcome(plan.expected[2] + 1.0)
    result = judge(plan, run_result(outcomes), Path("x.py"))
    assert len(result.groups) == 1 and not result.groups[0].passed and result.score == 0


# ---------------------------------------------------------------------------------------------
# Hints for common mistakes
# ---------------------------------------------------------------------------------------------


def test_a_wrong_formula_is_named_when_it_explains_every_wrong_case(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES))
    hard_threshold = [outcome(np.array([2.0])), outcome(np.array([-2.0])), outcome(3.0)]
    result = judge(plan, run_result(hard_threshold), Path("x.py"))
    assert any("hard thresholding" in hint for hint in result.hints)


def test_a_wrong_formula_is_not_named_when_one_wrong_case_disagrees(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES))
    mixed_bugs = [outcome(np.array([2.0])), outcome(np.array([-1.4])), outcome(3.0)]  # the second is not w
    result = judge(plan, run_result(mixed_bugs), Path("x.py"))
    assert not any("hard thresholding" in hint for hint in result.hints)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([1.0, np.nan, np.inf], [1.0, np.nan, np.inf]),
        ([1.0, 2.0], [1.0 + 1e-12, 2.0]),
        ([1.0, 2.0], [1.0 + 1e-6, 2.0]),
        ([np.inf], [1.0]),
        ([1.0], [np.inf]),
        ([-np.inf], [np.inf]),
        ([0.0], [-0.0]),
        ([np.nan], [0.0]),
        ([[1.0, 2.0], [1.0, 2.0]], [1.0, 2.0]),
        ([], []),
    ],
)
def test_mistake_detectors_compare_values_like_allclose(a: list[float], b: list[float]) -> None:
    from quizkit.mistakes import _same

    left, right = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    assert _same(left, right) is bool(np.allclose(left, right, rtol=1e-9, atol=0, equal_nan=True))


def test_hints_name_a_forgotten_return() -> None:
    case = judged([1.0], outcome(None))
    assert diagnose("soft_threshold", RunStatus.OK, [case]) == ("you returned None — did you forget `return`?",)


@pytest.mark.parametrize(("entry", "tiny"), [(TINY, True), (2 * TINY, False)])
def test_the_judge_and_the_hints_call_the_same_entries_tiny(entry: float, tiny: bool) -> None:
    case = judged([1.0, 0.0], outcome(np.array([1.0, entry])))
    judged_tiny = any("tiny and non-zero" in problem for problem in case.problems)
    hinted_tiny = any("tiny but non-zero" in hint for hint in diagnose("soft_threshold", RunStatus.OK, [case]))
    assert judged_tiny is hinted_tiny is tiny


def test_hints_are_not_repeated_and_are_limited() -> None:
    cases = [judged([1.0, 0.0], outcome(np.array([1.0, 1e-12]), modified=(True, False)))] * 5
    hints = diagnose("soft_threshold", RunStatus.TIMEOUT, cases)
    assert len(hints) == len(set(hints)) <= MAX_HINTS


def test_a_passing_file_gets_no_hints(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES))
    result = judge(plan, run_result([outcome(np.array([1.5])), outcome(np.array([-1.5])), outcome(2.0)]), Path("x.py"))
    assert result.hints == ()


# ---------------------------------------------------------------------------------------------
# Grading files (the entry points of `quizkit submit`)
# ---------------------------------------------------------------------------------------------


def test_the_exercise_is_taken_from_the_file_name(tmp_path: Path) -> None:
    lesson = make_lesson(make_exercise(tmp_path))
    assert exercise_for_file(lesson, Path("work/soft_threshold.py")).id == "soft_threshold"


def test_the_exercise_option_overrides_the_file_name(tmp_path: Path) -> None:
    lesson = make_lesson(make_exercise(tmp_path))
    assert exercise_for_file(lesson, Path("attempt2.py"), "soft_threshold").id == "soft_threshold"


def test_an_unknown_file_name_is_a_usage_error_naming_the_exercises(tmp_path: Path) -> None:
    lesson = make_lesson(make_exercise(tmp_path))
    with pytest.raises(InputError, match=r"no exercise 'attempt2'.*--exercise.*soft_threshold"):
        exercise_for_file(lesson, Path("attempt2.py"))


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    lesson = make_lesson(make_exercise(tmp_path))
    with pytest.raises(InputError, match="no such file"):
        grade_files(lesson, [tmp_path / "soft_threshold.py"], None, CannedRunner([]))


def test_grade_files_runs_learner_code_only_through_the_runner(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path, cases=THREE_CASES)
    learner = write(tmp_path / "learner" / "soft_threshold.py", "raise SystemExit('must not run here')\n")
    runner = CannedRunner([run_result([outcome(np.array([1.5])), outcome(np.array([-1.5])), outcome(2.0)])])
    [result] = grade_files(make_lesson(exercise), [learner], None, runner)
    assert result.is_correct
    [job] = runner.jobs
    assert (job.source, job.function, len(job.calls), job.limits) == (
        learner,
        "soft_threshold",
        3,
        limits_for(exercise),
    )


def test_grade_files_returns_results_in_the_order_of_the_files(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path, cases=THREE_CASES)
    good = write(tmp_path / "a" / "soft_threshold.py", "")
    bad = write(tmp_path / "b" / "soft_threshold.py", "")
    runner = CannedRunner(
        [
            run_result([outcome(None)] * 3),
            run_result([outcome(np.array([1.5])), outcome(np.array([-1.5])), outcome(2.0)]),
        ]
    )  # CannedRunner runs the jobs in reverse order: bad first
    results = grade_files(make_lesson(exercise), [good, bad], None, runner)
    assert [(r.source, r.is_correct) for r in results] == [(good, True), (bad, False)]


def test_grade_file_grades_one_file_through_the_in_process_runner(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path, cases=THREE_CASES)
    learner = write(tmp_path / "learner" / "soft_threshold.py", SOFT_THRESHOLD)
    with InProcessRunner() as runner:
        result = grade_file(make_lesson(exercise), exercise, learner, runner)
    assert result.is_correct and result.lesson_id == "demo" and result.source == learner


# ---------------------------------------------------------------------------------------------
# The learner suite: every file in tests/learners/<exercise>/, graded by the real sandbox
# ---------------------------------------------------------------------------------------------

LEARNER_FILES = sorted(LEARNERS.glob("*/*.py"))
SHORT_TIME_LIMIT = 0.5  # seconds, for the files that only end by the time limit


def expected_fragments(path: Path, marker: str = "expect") -> list[str]:
    """The ``# expect: ...`` lines at the top of a bad learner file (``# expect-not: ...`` for
    feedback that would mislead its author and must not appear)."""
    return re.findall(rf"^# {marker}: (.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)


@pytest.fixture(scope="module")
def learner_results() -> dict[Path, ExerciseResult]:
    """Every learner file graded once, through the real sandbox, two at a time."""
    from quizkit.sandbox import SubprocessRunner

    lesson = load_lesson(LESSON3)
    pairs = [(exercise_for_file(lesson, path, path.parent.name), path) for path in LEARNER_FILES]
    # A file that can only end by the time limit is given a short one: the verdict is the same.
    pairs = [
        (replace(exercise, time_limit=SHORT_TIME_LIMIT) if "time limit" in expected_fragments(path) else exercise, path)
        for exercise, path in pairs
    ]
    with SubprocessRunner() as runner:
        results = grade_many(lesson, pairs, runner, workers=2)
    return dict(zip(LEARNER_FILES, results, strict=True))


def test_the_learner_suite_has_many_right_and_wrong_files() -> None:
    by_kind = {kind: [p for p in LEARNER_FILES if p.name.startswith(kind)] for kind in ("ok_", "bad_")}
    assert len(by_kind["ok_"]) >= 15 and len(by_kind["bad_"]) >= 45
    assert all(p.name.startswith(("ok_", "bad_")) for p in LEARNER_FILES)
    assert all(expected_fragments(p) for p in by_kind["bad_"]), "every bad file declares # expect: lines"


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", [p for p in LEARNER_FILES if p.name.startswith("ok_")], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_a_right_learner_file_gets_full_marks(path: Path, learner_results: dict[Path, ExerciseResult]) -> None:
    result = learner_results[path]
    assert result.is_correct, render_text([result])
    assert result.hints == ()


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", [p for p in LEARNER_FILES if p.name.startswith("bad_")], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_a_wrong_learner_file_fails_with_feedback_naming_the_mistake(
    path: Path, learner_results: dict[Path, ExerciseResult]
) -> None:
    result = learner_results[path]
    feedback = render_text([result], color=False)
    assert not result.is_correct, feedback
    for fragment in expected_fragments(path):
        assert fragment in feedback, f"{fragment!r} missing from:\n{feedback}"
    for fragment in expected_fragments(path, "expect-not"):
        assert fragment not in feedback, f"misleading {fragment!r} in:\n{feedback}"


# ---------------------------------------------------------------------------------------------
# Hidden cases and grade-time seeds
# ---------------------------------------------------------------------------------------------


def hidden_second(tmp_path: Path) -> Exercise:
    exercise = make_exercise(tmp_path, cases=THREE_CASES)
    cases = list(exercise.cases)
    cases[1] = replace(cases[1], hidden=True)
    return replace(exercise, cases=tuple(cases))


def test_a_hidden_case_is_judged_and_marked_hidden(tmp_path: Path) -> None:
    plan = plan_exercise(hidden_second(tmp_path))
    result = judge(plan, run_result([outcome(np.array([1.5])), outcome(np.array([9.0])), outcome(2.0)]), Path("x.py"))
    assert [(g.hidden, g.passed) for g in result.groups] == [(False, True), (True, False), (False, True)]
    assert result.cases[1].hidden


def test_mistake_hints_never_come_from_hidden_cases(tmp_path: Path) -> None:
    plan = plan_exercise(hidden_second(tmp_path))
    none_on_the_hidden_case = [outcome(np.array([1.5])), outcome(None), outcome(2.0)]
    result = judge(plan, run_result(none_on_the_hidden_case), Path("x.py"))
    assert not any("return" in hint for hint in result.hints)


def test_output_is_withheld_once_a_hidden_case_ran(tmp_path: Path) -> None:
    plan = plan_exercise(hidden_second(tmp_path))
    outcomes = [outcome(np.array([1.5])), outcome(np.array([-1.5])), outcome(2.0)]
    result = judge(plan, run_result(outcomes, output="w = [-2.0]\n"), Path("x.py"))
    assert (result.output, result.output_withheld) == ("", True)


def test_output_is_kept_when_the_run_stopped_before_a_hidden_case(tmp_path: Path) -> None:
    plan = plan_exercise(hidden_second(tmp_path))
    run = run_result([], RunStatus.TIMEOUT, "your code ran longer than 2 s in call 1 of 3", output="started\n")
    result = judge(plan, run, Path("x.py"))
    assert (result.output, result.output_withheld) == ("started\n", False)


def test_a_run_that_ends_in_a_hidden_case_does_not_repeat_what_the_code_said(tmp_path: Path) -> None:
    plan = plan_exercise(hidden_second(tmp_path))
    run = run_result(
        [outcome(np.array([1.5]))], RunStatus.EXITED, "your code called sys.exit('w=[-2.0]') in call 2 of 3"
    )
    result = judge(plan, run, Path("x.py"))
    assert "w=" not in result.run_message and "hidden case" in result.run_message


def test_practice_feedback_of_an_exercise_without_hidden_cases_is_unchanged(tmp_path: Path) -> None:
    plan = plan_exercise(make_exercise(tmp_path, cases=THREE_CASES))
    run = run_result([outcome(np.array([1.5]))], RunStatus.EXITED, "your code called sys.exit(3)", output="debug\n")
    result = judge(plan, run, Path("x.py"))
    assert (result.output, result.run_message) == ("debug\n", "your code called sys.exit(3)")


def test_a_grade_seed_draws_other_cases_and_the_same_seed_the_same_ones(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path, cases=(), random=[_block(count=3)])

    def draws(seed: int | None) -> list[bytes]:
        return [call.args[0].tobytes() for call in plan_exercise(exercise, grade_seed=seed).calls]  # type: ignore[union-attr]

    assert draws(11) == draws(11)
    assert len({tuple(draws(None)), tuple(draws(11)), tuple(draws(12))}) == 3


def test_a_plan_remembers_its_grade_seed(tmp_path: Path) -> None:
    exercise = make_exercise(tmp_path, cases=(), random=[_block(count=2)])
    assert (plan_exercise(exercise).seed, plan_exercise(exercise, grade_seed=5).seed) == (None, 5)
