"""The lesson 3 exercises as shipped: starters fail, references pass, cases pin every edge.

Starters and references are course files (trusted), so they run through the in-process runner.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from quizkit.exercises import build_calls, plan_exercise
from quizkit.grading import grade_file
from quizkit.lesson import Exercise, Lesson, load_lesson
from quizkit.sandbox import InProcessRunner

LESSON3 = Path(__file__).resolve().parent.parent / "exercises" / "lesson3" / "lesson.yaml"
EXERCISE_IDS = ("sign_gradient", "clamp_to_zero", "soft_threshold")


@pytest.fixture(scope="module")
def lesson() -> Lesson:
    return load_lesson(LESSON3)


def exercise(lesson: Lesson, exercise_id: str) -> Exercise:
    found = lesson.exercise(exercise_id)
    assert found is not None
    return found


def expected_for(lesson: Lesson, exercise_id: str, case_name: str) -> np.ndarray:
    plan = plan_exercise(exercise(lesson, exercise_id))
    index = next(i for i, call in enumerate(plan.calls) if call.name == case_name)
    return plan.expected[index]


def test_the_lesson_has_the_three_exercises_then_the_capstone(lesson: Lesson) -> None:
    assert tuple(e.id for e in lesson.exercises) == (*EXERCISE_IDS, "lasso_ista")


# ---------------------------------------------------------------------------------------------
# The capstone: lasso_ista, which uses the soft_threshold exercise
# ---------------------------------------------------------------------------------------------


def test_lasso_ista_reference_runs_with_the_soft_threshold_reference(lesson: Lesson) -> None:
    item = exercise(lesson, "lasso_ista")
    assert item.uses == ("soft_threshold",)
    assert item.preload == (exercise(lesson, "soft_threshold").reference,)
    plan = plan_exercise(item)
    assert [source.data for source in plan.preload] == [exercise(lesson, "soft_threshold").reference.read_bytes()]


def test_a_learners_lasso_ista_never_gets_the_soft_threshold_reference(lesson: Lesson) -> None:
    plan = plan_exercise(exercise(lesson, "lasso_ista"))
    assert plan.job(exercise(lesson, "lasso_ista").starter).preload == ()


CAPSTONE = """
import numpy as np

def lasso_ista(X, y, lam, step, n_steps):
    w = np.zeros(X.shape[1])
    for _ in range(n_steps):
        w = soft_threshold(w - step * (X.T @ (X @ w - y)), step * lam)
    return w
"""


def test_lasso_ista_runs_with_the_learners_own_soft_threshold_beside_it(lesson: Lesson, tmp_path: Path) -> None:
    (tmp_path / "lasso_ista.py").write_text(CAPSTONE, encoding="utf-8")
    reference = exercise(lesson, "soft_threshold").reference.read_text(encoding="utf-8")
    (tmp_path / "soft_threshold.py").write_text(reference, encoding="utf-8")
    with InProcessRunner() as runner:
        right = grade_file(lesson, exercise(lesson, "lasso_ista"), tmp_path / "lasso_ista.py", runner)
        (tmp_path / "soft_threshold.py").write_text("def soft_threshold(w, t):\n    return w\n", encoding="utf-8")
        wrong = grade_file(lesson, exercise(lesson, "lasso_ista"), tmp_path / "lasso_ista.py", runner)
    assert right.is_correct
    assert not wrong.is_correct


def test_lasso_ista_without_a_soft_threshold_says_what_is_missing(lesson: Lesson, tmp_path: Path) -> None:
    (tmp_path / "lasso_ista.py").write_text(CAPSTONE, encoding="utf-8")
    with InProcessRunner() as runner:
        result = grade_file(lesson, exercise(lesson, "lasso_ista"), tmp_path / "lasso_ista.py", runner)
    assert not result.is_correct
    assert any("name 'soft_threshold' is not defined" in (case.error or "") for case in result.cases)


def test_lasso_ista_reference_does_not_define_soft_threshold_itself(lesson: Lesson) -> None:
    assert "def soft_threshold" not in exercise(lesson, "lasso_ista").reference.read_text(encoding="utf-8")


def test_lasso_ista_starter_gets_no_marks_and_keeps_the_loop_skeleton(lesson: Lesson) -> None:
    item = exercise(lesson, "lasso_ista")
    text = item.starter.read_text(encoding="utf-8")
    assert f"def {item.signature}:" in text and "for _ in range(n_steps):" in text
    with InProcessRunner() as runner:
        result = grade_file(lesson, item, item.starter, runner)
    assert result.score == 0
    assert any("NotImplementedError" in hint for hint in result.hints)


def test_lasso_ista_synthetic_cases_recover_exactly_the_real_features(lesson: Lesson) -> None:
    """Each case named '... real features a, b and c' is solved by the reference with exactly those
    features non-zero: the support the feedback calls 'real' is the one the data was made from."""
    plan = plan_exercise(exercise(lesson, "lasso_ista"))
    named = 0
    for call, expected in zip(plan.calls, plan.expected, strict=True):
        match = re.search(r"real features (\d+), (\d+) and (\d+)", call.name)
        if match:
            named += 1
            assert np.flatnonzero(expected).tolist() == sorted(int(g) for g in match.groups()), call.name
            X = call.args[0]
            assert X.shape[1] == 20
    assert named == 2


def test_lasso_ista_cases_have_exact_zeros_and_survivors(lesson: Lesson) -> None:
    plan = plan_exercise(exercise(lesson, "lasso_ista"))
    random_results = [expected for call, expected in zip(plan.calls, plan.expected, strict=True) if "#" in call.name]
    assert all(np.any(e == 0.0) and np.any(e != 0.0) for e in random_results)


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_the_starter_gets_no_marks_and_is_told_to_write_code(lesson: Lesson, exercise_id: str) -> None:
    item = exercise(lesson, exercise_id)
    with InProcessRunner() as runner:
        result = grade_file(lesson, item, item.starter, runner)
    assert result.score == 0
    assert any("NotImplementedError" in hint for hint in result.hints)


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_the_reference_gets_full_marks_when_judged_like_a_learner(lesson: Lesson, exercise_id: str) -> None:
    item = exercise(lesson, exercise_id)
    with InProcessRunner() as runner:
        result = grade_file(lesson, item, item.reference, runner)
    assert result.is_correct and result.score == item.points


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_the_starter_has_the_exact_signature(lesson: Lesson, exercise_id: str) -> None:
    item = exercise(lesson, exercise_id)
    assert f"def {item.signature}:" in item.starter.read_text(encoding="utf-8")


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_expected_results_have_the_input_shape_and_float_dtype(lesson: Lesson, exercise_id: str) -> None:
    plan = plan_exercise(exercise(lesson, exercise_id))
    for call, expected in zip(plan.calls, plan.expected, strict=True):
        first = call.args[0]
        assert expected.shape == np.shape(first), call.name
        assert expected.dtype == np.float64, call.name


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_random_cases_are_reproducible_from_their_seeds(lesson: Lesson, exercise_id: str) -> None:
    first, _ = build_calls(exercise(lesson, exercise_id))
    again, _ = build_calls(exercise(lesson, exercise_id))
    for a, b in zip(first, again, strict=True):
        assert a.name == b.name
        assert all(np.array_equal(x, y) for x, y in zip(a.args, b.args, strict=True))


def _kinds(item: Exercise) -> set[str]:
    """Which kinds of edge the explicit cases' arguments cover."""
    calls, groups = build_calls(item)
    kinds: set[str] = set()
    explicit = [
        call
        for call, group in zip(calls, (g for g in groups for _ in range(g.count)), strict=True)
        if not group.is_random
    ]
    for call in explicit:
        for value in call.args:
            array = np.asarray(value)
            if isinstance(value, float):
                kinds.add("python float")
            elif array.ndim == 0:
                kinds.add("0-d")
            else:
                kinds.add(f"{array.ndim}-d")
            if array.size == 0:
                kinds.add(f"empty {array.shape}")
            if array.dtype == np.float32:
                kinds.add("float32")
            flat = array.astype(np.float64).reshape(-1)
            if np.any((flat == 0) & np.signbit(flat)):
                kinds.add("negative zero")
            if np.any(np.abs(flat) >= 1e300):
                kinds.add("huge")
            if np.any((flat != 0) & (np.abs(flat) <= 1e-300)):
                kinds.add("tiny")
    return kinds


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_explicit_cases_cover_every_kind_of_input(lesson: Lesson, exercise_id: str) -> None:
    needed = {
        "python float",
        "0-d",
        "1-d",
        "2-d",
        "empty (0,)",
        "empty (0, 3)",
        "float32",
        "negative zero",
        "huge",
        "tiny",
    }
    assert needed <= _kinds(exercise(lesson, exercise_id))


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_random_blocks_hit_exact_zeros(lesson: Lesson, exercise_id: str) -> None:
    calls, groups = build_calls(exercise(lesson, exercise_id))
    random_calls = [c for c, g in zip(calls, (g for g in groups for _ in range(g.count)), strict=True) if g.is_random]
    assert any(np.any(np.asarray(call.args[0]) == 0.0) for call in random_calls)


def test_soft_threshold_random_blocks_put_entries_exactly_on_the_threshold(lesson: Lesson) -> None:
    calls, _ = build_calls(exercise(lesson, "soft_threshold"))
    ties = [call for call in calls if "#" in call.name and np.any(np.abs(np.asarray(call.args[0])) == call.args[1])]
    assert len(ties) >= 10


def test_sign_gradient_is_zero_at_zero_and_lam_elsewhere(lesson: Lesson) -> None:
    assert expected_for(lesson, "sign_gradient", "positive, negative and zero weights").tolist() == [0.1, -0.1, 0.0]


def test_sign_gradient_does_not_depend_on_the_size_of_w(lesson: Lesson) -> None:
    expected = expected_for(lesson, "sign_gradient", "huge and tiny weights")
    assert expected.tolist() == [0.1, -0.1, 0.1, -0.1]


def test_clamp_to_zero_sets_flipped_entries_to_exactly_zero(lesson: Lesson) -> None:
    assert expected_for(lesson, "clamp_to_zero", "crossings in both directions").tolist() == [0.0, 0.0, 0.3, -0.3]


def test_clamp_to_zero_leaves_a_weight_that_starts_at_zero_alone(lesson: Lesson) -> None:
    assert expected_for(lesson, "clamp_to_zero", "starting at zero is not a flip").tolist() == [0.3, -0.3, 0.1]


def test_clamp_to_zero_treats_negative_zero_as_zero(lesson: Lesson) -> None:
    assert expected_for(lesson, "clamp_to_zero", "negative zero is not a sign").tolist() == [0.5, -0.0, -0.5, -0.5]


def test_soft_threshold_is_exactly_zero_on_the_threshold(lesson: Lesson) -> None:
    expected = expected_for(lesson, "soft_threshold", "exactly on the threshold")
    assert expected[0] == 0.0 and expected[1] == 0.0
    assert math.isclose(expected[2], 0.45) and math.isclose(expected[3], -0.45)


def test_soft_threshold_with_threshold_zero_returns_w(lesson: Lesson) -> None:
    assert expected_for(lesson, "soft_threshold", "tiny weights with threshold 0").tolist() == [1e-300, -1e-300]


# Functions that ignore their input: they pass the edge cases that need no work, and no more.
IGNORES_INPUT = {
    "sign_gradient": "import numpy as np\n\ndef sign_gradient(w, lam):\n    return np.zeros_like(np.asarray(w, dtype=float))\n",
    "clamp_to_zero": "import numpy as np\n\ndef clamp_to_zero(w_before, w_after):\n    return np.array(w_after, dtype=float)\n",
    "soft_threshold": "import numpy as np\n\ndef soft_threshold(w, threshold):\n    return np.array(w, dtype=float)\n",
}


@pytest.mark.parametrize("exercise_id", sorted(IGNORES_INPUT))
def test_a_function_that_ignores_its_input_earns_almost_no_partial_credit(
    lesson: Lesson, tmp_path: Path, exercise_id: str
) -> None:
    item = exercise(lesson, exercise_id)
    learner = tmp_path / f"{exercise_id}.py"
    learner.write_text(IGNORES_INPUT[exercise_id], encoding="utf-8")
    with InProcessRunner() as runner:
        result = grade_file(lesson, item, learner, runner)
    assert result.passed_groups >= 3, "the edge cases it passes are still graded"
    assert result.score <= 0.1 * item.points


# Typical bugs, written as edits of the reference solutions: each must lose marks.
MUTANTS = {
    "sign_gradient": [
        ("lam * np.sign(w)", "2 * lam * w"),
        ("lam * np.sign(w)", "-lam * np.sign(w)"),
        ("lam * np.sign(w)", "np.sign(w)"),
        ("lam * np.sign(w)", "lam * np.sign(w) + 1e-12"),
        ("lam * np.sign(w)", "np.where(w >= 0, lam, -lam)"),
    ],
    "clamp_to_zero": [
        ("< 0, 0.0", "<= 0, 0.0"),
        ("< 0, 0.0", "> 0, 0.0"),
        ("< 0, 0.0", "< 0, 1e-12"),
        ("< 0, 0.0, w_after)", "< 0, 0.0, w_before)"),
        ("np.sign(w_before) * np.sign(w_after)", "np.sign(w_after)"),
    ],
    "soft_threshold": [
        ("- threshold, 0.0)", "+ threshold, 0.0)"),
        ("- threshold, 0.0)", "- threshold, 1e-12)"),
        ("np.maximum(", "np.minimum("),
        ("np.sign(w) * ", ""),
        ("- threshold, 0.0)", "- threshold / 2, 0.0)"),
        ("np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)", "np.sign(w) * (np.abs(w) - threshold)"),
    ],
}


@pytest.mark.parametrize(
    ("exercise_id", "before", "after"),
    [(exercise_id, before, after) for exercise_id, edits in MUTANTS.items() for before, after in edits],
)
def test_typical_bugs_in_the_reference_lose_marks(
    lesson: Lesson, tmp_path: Path, exercise_id: str, before: str, after: str
) -> None:
    item = exercise(lesson, exercise_id)
    source = item.reference.read_text(encoding="utf-8")
    assert before in source
    mutant = tmp_path / f"{exercise_id}.py"
    mutant.write_text(source.replace(before, after, 1), encoding="utf-8")
    with InProcessRunner() as runner:
        result = grade_file(lesson, item, mutant, runner)
    assert not result.is_correct
