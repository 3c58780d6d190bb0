"""Result types own their dict form both ways: ``from_dict(to_dict())`` gives the same result back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from quizkit.grading import grade_many
from quizkit.lesson import load_lesson
from quizkit.results import (
    CaseResult,
    CaseStatus,
    Difference,
    ExerciseResult,
    GraderStatus,
    GroupResult,
    decode_value,
    encode_value,
)
from quizkit.sandbox import InProcessRunner, RunStatus
from quizkit.verdict import Status

LEARNERS = Path(__file__).resolve().parent / "learners"
LESSON3 = Path(__file__).resolve().parent.parent / "exercises" / "lesson3" / "lesson.yaml"


def same_value(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    return type(a) is type(b) and (a == b or (a != a and b != b))  # type: ignore[comparison-overlap]


@pytest.mark.parametrize(
    "value",
    [
        None,
        0.5,
        -0.0,
        float("nan"),
        float("-inf"),
        3,
        np.array(2.5),
        np.array([[1.0, np.nan], [np.inf, -0.0]]),
        np.zeros((0, 3)),
        np.array([1, -2], dtype=np.int64),
        np.array([True, False]),
        np.array([1.5], dtype=np.float32),
        np.array([1 + 2j, np.nan - 1j]),
    ],
    ids=repr,
)
def test_values_survive_the_dict_form_with_type_dtype_and_shape(value: object) -> None:
    data = encode_value(value)
    assert same_value(decode_value(json.loads(json.dumps(data, allow_nan=False))), value)


def test_negative_zero_keeps_its_sign() -> None:
    assert str(decode_value(json.loads(json.dumps(encode_value(-0.0))))) == "-0.0"


def sample_result() -> ExerciseResult:
    case = CaseResult(
        "on the threshold",
        "on the threshold",
        CaseStatus.FAILED,
        ("1 entry should be exactly 0.0",),
        (("w", np.array([0.5, 2.0])), ("threshold", 0.5)),
        np.array([0.0, 1.5]),
        np.array([1e-12, 1.5]),
        "ndarray",
        "ValueError: boom\n  line 3",
        (False, True),
        (Difference((0,), 0.0, 1e-12),),
        1,
        0.002,
        hidden=True,
    )
    return ExerciseResult(
        "lesson3",
        "soft_threshold",
        "Soft thresholding",
        Path("alice/soft_threshold.py"),
        Status.INCORRECT,
        0.0,
        2.0,
        (GroupResult("on the threshold", False, 7, 2.0, (case,), hidden=True),),
        RunStatus.TIMEOUT,
        "your code ran longer than 2 s",
        "",
        ("look for a loop",),
        "",
        False,
        0.5,
        output_withheld=True,
    )


def test_an_exercise_result_survives_its_dict_form_through_json() -> None:
    original = sample_result()
    again = ExerciseResult.from_dict(json.loads(json.dumps(original.to_dict(), allow_nan=False)))
    assert again.to_dict() == original.to_dict()
    assert again.run_status is RunStatus.TIMEOUT and again.status is Status.INCORRECT
    assert again.groups[0].cases[0].hidden and again.groups[0].cases[0].status is CaseStatus.FAILED


def test_a_grader_error_status_survives_its_dict_form() -> None:
    from dataclasses import replace

    original = replace(sample_result(), run_status=GraderStatus.GRADER_ERROR)
    assert ExerciseResult.from_dict(original.to_dict()).run_status is GraderStatus.GRADER_ERROR


def test_statuses_are_enums_not_strings() -> None:
    result = sample_result()
    assert isinstance(result.run_status, RunStatus) and isinstance(result.groups[0].status, CaseStatus)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # some learner files cast nan to int
def test_real_results_of_the_learner_suite_survive_their_dict_form() -> None:
    lesson = load_lesson(LESSON3)
    files = sorted(LEARNERS.glob("soft_threshold/*.py"))[:12]
    with InProcessRunner() as runner:
        results = grade_many(lesson, [(lesson.exercises[-1], path) for path in files], runner)
    for result in results:
        text = json.dumps(result.to_dict(), allow_nan=False)
        assert ExerciseResult.from_dict(json.loads(text)).to_dict() == result.to_dict()
