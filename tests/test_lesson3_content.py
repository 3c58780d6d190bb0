"""Content checks for lesson 3 (L1 regularization): the questions a learner sees must be right.

Every numeric answer key is recomputed here from first principles (numeric minimisation, applying
the update rule step by step, finite-difference gradients) instead of being copied, and every
symbolic key is compared with the derivative SymPy computes for the stated objective. Adding a numeric
question without registering a recomputation below makes the suite fail on purpose.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from quizkit.lesson import (
    ChoiceQuestion,
    MultiQuestion,
    NumericQuestion,
    SymbolicQuestion,
    load_lesson,
)
from quizkit.variants import resolve, variant_count, variant_values

LESSON_PATH = Path(__file__).resolve().parent.parent / "exercises" / "lesson3" / "lesson.yaml"

SYMBOLIC_IDS = {"l1-gradient", "l2-gradient", "rubber-band-gradient", "elastic-net-gradient", "l1-update"}


@pytest.fixture(scope="module")
def lesson():
    return load_lesson(LESSON_PATH)


def _question(lesson, question_id: str):
    question = lesson.question(question_id)
    assert question is not None, f"question {question_id!r} is missing from {LESSON_PATH.name}"
    return question


def variants(question) -> list[tuple[dict[str, float], object]]:
    """Every variant of ``question`` as (parameter values, resolved question); one for a plain question."""
    count = variant_count(question.parameters)
    return [
        (
            {name: float(value) for name, value in variant_values(question.parameters, index).items()},
            resolve(question, index),
        )
        for index in range(count)
    ]


def _variant_with(lesson, question_id: str, **values: float):
    """The resolved variant of ``question_id`` with these parameter values."""
    for found, shown in variants(_question(lesson, question_id)):
        if all(abs(found[name] - value) < 1e-12 for name, value in values.items()):
            return shown
    raise AssertionError(f"{question_id} has no variant with {values}")


# ---------------------------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------------------------


def test_lesson_loads_without_problems(lesson):
    assert lesson.id == "lesson3"
    assert lesson.questions


def test_question_counts(lesson):
    symbolic = [q for q in lesson.questions if isinstance(q, SymbolicQuestion)]
    other = [q for q in lesson.questions if not isinstance(q, SymbolicQuestion)]
    assert len(other) >= 12, f"only {len(other)} non-symbolic questions"
    assert len(symbolic) >= 5, f"only {len(symbolic)} symbolic questions"
    assert {q.id for q in symbolic} >= SYMBOLIC_IDS
    assert any(isinstance(q, MultiQuestion) for q in lesson.questions), "at least one multi question expected"
    assert any(isinstance(q, NumericQuestion) for q in lesson.questions)


def test_ids_are_unique(lesson):
    ids = [item.id for item in lesson.items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate ids: {duplicates}"


def test_every_question_has_explanation_and_hints(lesson):
    for question in lesson.questions:
        assert question.explanation.strip(), f"{question.id}: no explanation"
        assert question.hints, f"{question.id}: no hints"
        assert all(h.strip() for h in question.hints), f"{question.id}: empty hint"


def test_every_wrong_option_teaches(lesson):
    for question in lesson.questions:
        if not isinstance(question, (ChoiceQuestion, MultiQuestion)):
            continue
        correct = [o for o in question.options if o.correct]
        if isinstance(question, ChoiceQuestion):
            assert len(correct) == 1, f"{question.id}: a choice question needs exactly one correct option"
        else:
            assert correct, f"{question.id}: no correct option"
        assert len(question.options) > len(correct), f"{question.id}: no wrong option at all"
        for option in question.options:
            if not option.correct:
                assert option.feedback.strip(), f"{question.id}: wrong option {option.text!r} has no feedback"


def test_numeric_prompts_state_precision_that_matches_tolerance(lesson):
    """'Give ... to N decimal places' must accept key +- 0.4*10^-N and reject key +- 1.5*10^-N."""
    shown_variants = [shown for question in lesson.questions for _, shown in variants(question)]
    for question in shown_variants:
        if not isinstance(question, NumericQuestion):
            continue
        match = re.search(r"(\d+) decimal places?", question.prompt)
        exact = "exact value" in question.prompt
        if match:
            step = 10.0 ** -int(match.group(1))
            tol = question.tolerance
            for sign in (1, -1):
                assert tol.accepts(question.answer + sign * 0.4 * step, question.answer), question.id
                assert not tol.accepts(question.answer + sign * 1.5 * step, question.answer), question.id
        elif not exact:
            # a whole-number answer (a count) needs no precision statement
            assert float(question.answer).is_integer(), f"{question.id}: the prompt should say how precise to be"


# ---------------------------------------------------------------------------------------------
# Numeric keys, recomputed
# ---------------------------------------------------------------------------------------------


def penalty_gradient(penalty: Callable[[float], float], w: float) -> float:
    """Central finite difference of a penalty at w (w away from any kink)."""
    h = 1e-7
    assert abs(w) > 10 * h, "finite differences need w away from the kink at 0"
    return (penalty(w + h) - penalty(w - h)) / (2 * h)


def soft_threshold(v: float, threshold: float) -> float:
    """sign(v) * max(|v| - threshold, 0), written out case by case (independent of the reference)."""
    if v > threshold:
        return v - threshold
    if v < -threshold:
        return v + threshold
    return 0.0


def l1_step(w: float, alpha: float, lam: float, data_grad: float = 0.0) -> float:
    """The lesson's L1 step: a plain step on the data loss, then soft thresholding by alpha*lam.

    Away from zero this is the plain gradient step on L_data + lam*|w| (the penalty gradient comes
    from a finite difference, so the two definitions check each other)."""
    new = soft_threshold(w - alpha * data_grad, alpha * lam)
    if w != 0 and new != 0 and math.copysign(1, new) == math.copysign(1, w):
        plain = w - alpha * (penalty_gradient(lambda v: lam * abs(v), w) + data_grad)
        assert math.isclose(new, plain, abs_tol=1e-9), (new, plain)
    return new


def l2_step(w: float, alpha: float, lam: float, data_grad: float = 0.0) -> float:
    """One gradient step on L_data + lam*w**2 (no clamping: L2 implementations do not clamp)."""
    return w - alpha * (penalty_gradient(lambda v: lam * v * v, w) + data_grad)


def l1_steps(w: float, alpha: float, lam: float, steps: int) -> float:
    for _ in range(steps):
        w = l1_step(w, alpha, lam)
    return w


def ista_step_zero_count(w, data_gradient, alpha: float, lam: float) -> int:
    """Exact zeros after one ISTA step, entry by entry with the scalar L1 step."""
    return sum(l1_step(wi, alpha, lam, data_grad=gi) == 0.0 for wi, gi in zip(w, data_gradient, strict=True))


def matching_sklearn_alpha(lam: float, n: int) -> float:
    """The alpha for which scikit-learn's objective (1/(2n))||y - Xw||^2 + alpha*||w||_1 has the same
    minimiser as 1/2 ||Xw - y||^2 + lam*||w||_1: the two must be proportional, lesson = c * sklearn
    with c > 0 for every w. Writing sklearn = data/n + alpha*l1, lesson = c*data/n + (c*alpha)*l1 is
    linear in (c, c*alpha); solve it from random weights and check the fit is exact."""
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((n, 4)), rng.standard_normal(n)
    ws = rng.standard_normal((6, 4))
    data = np.array([0.5 * np.sum((X @ w - y) ** 2) for w in ws])
    l1 = np.array([np.sum(np.abs(w)) for w in ws])
    lesson = data + lam * l1
    design = np.column_stack([data / n, l1])
    (c, c_alpha), *_ = np.linalg.lstsq(design, lesson, rcond=None)
    assert c > 0 and np.allclose(design @ [c, c_alpha], lesson, rtol=1e-12)
    return float(c_alpha / c)


def l1_steps_until_zero(w: float, alpha: float, lam: float, limit: int = 10_000) -> int:
    for step in range(1, limit + 1):
        w = l1_step(w, alpha, lam)
        if w == 0.0:
            return step
    raise AssertionError("the weight never reached zero")


def l2_fraction_left(steps: int, alpha: float, lam: float) -> float:
    w = 1.0
    for _ in range(steps):
        w = l2_step(w, alpha, lam)
    return w


# A grid of step 1e-5 on [-2, 2] that contains 0.0 exactly (arange of integers, then a division).
_GRID = np.arange(-200_000, 200_001) / 100_000.0
_ZERO_INDEX = 200_000
assert _GRID[_ZERO_INDEX] == 0.0


def golden_section(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-12) -> float:
    ratio = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    return (a + b) / 2


def minimise(f: Callable, lo: float = -2.0, hi: float = 2.0) -> float:
    """Global minimiser of a 1-D function on [-2, 2]: dense grid (containing 0), then golden section
    in the bracket around the best grid point; the grid point is kept if refinement does not beat it
    (so a minimum exactly at the kink w = 0 is reported as exactly 0.0)."""
    assert (lo, hi) == (-2.0, 2.0)
    values = f(_GRID)
    i = int(np.argmin(values))
    left, right = _GRID[max(i - 1, 0)], _GRID[min(i + 1, len(_GRID) - 1)]
    refined = golden_section(lambda x: float(f(np.float64(x))), float(left), float(right))
    return refined if float(f(np.float64(refined))) < float(values[i]) else float(_GRID[i])


def rubber_band(lam: float) -> Callable:
    return lambda w: (w - 0.3) ** 2 + lam * np.abs(w)


def rubber_band_minimiser(lam: float) -> float:
    return minimise(rubber_band(lam))


def smallest_lambda_with_zero_minimiser() -> float:
    lo, hi = 0.0, 2.0  # at lam = 0 the minimum is at 0.3; at lam = 2 it is at 0
    assert rubber_band_minimiser(lo) != 0.0 and rubber_band_minimiser(hi) == 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if rubber_band_minimiser(mid) == 0.0:
            hi = mid
        else:
            lo = mid
    return hi


# question id -> (fragments its prompt must contain, so the numbers here match the prompt; recomputation).
# For a question with parameters both are functions of the variant's values (a dict), and every
# variant is recomputed.
Values = dict[str, float]
NUMERIC_KEYS: dict[str, tuple[Callable[[Values], tuple[str, ...]], Callable[[Values], float]]] = {
    "l1-step-clamp": (lambda v: ("w = 0.05", "α = 0.1", "λ = 0.8", "data gradient"), lambda v: l1_step(0.05, 0.1, 0.8)),
    "l1-step-no-cross": (
        lambda v: (f"w = {v['w']:g}", "α = 0.1", f"λ = {v['lam']:g}", "data gradient 0"),
        lambda v: l1_step(v["w"], 0.1, v["lam"]),
    ),
    "prox-stays-at-zero": (
        lambda v: ("w = 0", "−0.15", "α = 0.1", "λ = 0.2"),
        lambda v: l1_step(0.0, 0.1, 0.2, data_grad=-0.15),
    ),
    "prox-leaves-zero": (
        lambda v: ("w = 0", "−0.3", "α = 0.1", "λ = 0.2"),
        lambda v: l1_step(0.0, 0.1, 0.2, data_grad=-0.3),
    ),
    "worked-example-l1-vs-l2": (
        lambda v: ("w = 0.12", "α = 0.1", "λ = 0.5", "third L1 step"),
        lambda v: l1_steps(0.12, 0.1, 0.5, steps=3),
    ),
    "l2-rubber-band-min": (
        lambda v: ("(w − 0.3)² + λw²", f"λ = {v['lam']:g}"),
        lambda v: minimise(lambda w: (w - 0.3) ** 2 + v["lam"] * w * w),
    ),
    "ista-step-zeros": (
        lambda v: ("w = (0.5, −0.05, 0)", "(0.2, 0.1, −0.3)", "α = 0.5", "λ = 0.4"),
        lambda v: ista_step_zero_count((0.5, -0.05, 0.0), (0.2, 0.1, -0.3), 0.5, 0.4),
    ),
    "sklearn-alpha": (lambda v: ("λ = 5", "n = 100", "(1/(2n))"), lambda v: matching_sklearn_alpha(5.0, 100)),
    "l1-step-with-data": (
        lambda v: ("w = 0.3", "α = 0.1", f"λ = {v['lam']:g}", f"∂L_data/∂w = {v['g']:g}"),
        lambda v: l1_step(0.3, 0.1, v["lam"], data_grad=v["g"]),
    ),
    "l1-steps-to-zero": (lambda v: ("w = 0.23", "α = 0.1", "λ = 0.5"), lambda v: l1_steps_until_zero(0.23, 0.1, 0.5)),
    "l2-step": (lambda v: ("w = 0.002", "α = 0.1", "λ = 0.5", "λw²"), lambda v: l2_step(0.002, 0.1, 0.5)),
    "l2-shrink-after-ten": (
        lambda v: ("α = 0.1", f"λ = {v['lam']:g}", "10 gradient steps"),
        lambda v: l2_fraction_left(10, 0.1, v["lam"]),
    ),
    "rubber-band-min-small-lambda": (
        lambda v: ("(w − 0.3)² + λ|w|", f"λ = {v['lam']:g}"),
        lambda v: rubber_band_minimiser(v["lam"]),
    ),
    "rubber-band-threshold": (
        lambda v: ("(w − 0.3)² + λ|w|", "smallest λ"),
        lambda v: smallest_lambda_with_zero_minimiser(),
    ),
    "rubber-band-min-large-lambda": (lambda v: ("(w − 0.3)² + λ|w|", "λ = 0.8"), lambda v: rubber_band_minimiser(0.8)),
}

# Every (question, variant) pair, recomputed one by one.
_QUESTIONS = {question.id: question for question in load_lesson(LESSON_PATH).questions}
NUMERIC_VARIANTS = [
    (question_id, index)
    for question_id in sorted(NUMERIC_KEYS)
    for index in range(variant_count(_QUESTIONS[question_id].parameters))
]


def test_every_numeric_question_has_a_recomputation(lesson):
    numeric = {q.id for q in lesson.questions if isinstance(q, NumericQuestion)}
    missing = sorted(numeric - NUMERIC_KEYS.keys())
    stale = sorted(NUMERIC_KEYS.keys() - numeric)
    assert not missing, f"numeric questions without a recomputation in this test: {missing}"
    assert not stale, f"recomputations for questions that no longer exist: {stale}"


def _numeric_variant(lesson, question_id: str, index: int) -> tuple[Values, NumericQuestion]:
    question = _question(lesson, question_id)
    assert isinstance(question, NumericQuestion)
    values = {name: float(value) for name, value in variant_values(question.parameters, index).items()}
    shown = resolve(question, index)
    assert isinstance(shown, NumericQuestion)
    return values, shown


def test_parameterised_questions_have_several_variants(lesson):
    counts = {q.id: variant_count(q.parameters) for q in lesson.questions if q.parameters}
    parameterised = {
        "l1-step-no-cross",
        "l1-step-with-data",
        "l2-shrink-after-ten",
        "rubber-band-min-small-lambda",
        "l2-rubber-band-min",
    }
    assert parameterised <= counts.keys()
    assert all(count > 1 for count in counts.values())


@pytest.mark.parametrize(("question_id", "index"), NUMERIC_VARIANTS)
def test_numeric_key_matches_recomputation(lesson, question_id, index):
    values, question = _numeric_variant(lesson, question_id, index)
    fragments, recompute = NUMERIC_KEYS[question_id]
    for fragment in fragments(values):
        assert fragment.replace("-", "−") in question.prompt, (
            f"{question_id} variant {index}: prompt no longer mentions {fragment!r}"
        )
    truth = float(recompute(values))
    assert question.tolerance.accepts(truth, question.answer), (
        f"{question_id} variant {index}: key {question.answer} but recomputed {truth}"
    )


@pytest.mark.parametrize(("question_id", "index"), NUMERIC_VARIANTS)
def test_numeric_wrong_answers_are_not_accepted(lesson, question_id, index):
    values, question = _numeric_variant(lesson, question_id, index)
    truth = float(NUMERIC_KEYS[question_id][1](values))
    answers = [wrong.answer for wrong in question.wrong_answers]
    assert len(set(answers)) == len(answers), f"{question_id} variant {index}: a wrong answer is listed twice"
    for wrong in question.wrong_answers:
        assert wrong.feedback.strip(), f"{question_id}: wrong answer {wrong.answer} has no feedback"
        assert not question.tolerance.accepts(wrong.answer, question.answer), (
            f"{question_id} variant {index}: wrong answer {wrong.answer} is accepted by the key's tolerance"
        )
        assert not question.tolerance.accepts(wrong.answer, truth), (
            f"{question_id} variant {index}: wrong answer {wrong.answer} is within tolerance of the true value {truth}"
        )


def test_recomputation_helpers_are_sane():
    # the helpers themselves, against closed forms they must agree with
    assert l1_step(0.05, 0.1, 0.8) == 0.0  # crosses zero -> clamped
    assert l1_step(-0.05, 0.1, 0.8) == 0.0
    assert math.isclose(l1_step(-0.5, 0.1, 0.8), -0.42, abs_tol=1e-9)
    assert math.isclose(l2_step(0.3, 0.1, 0.5), 0.3 * 0.9, abs_tol=1e-9)
    for lam in (0.0, 0.1, 0.2, 0.4, 0.59):
        assert math.isclose(rubber_band_minimiser(lam), 0.3 - lam / 2, abs_tol=1e-6)
    for lam in (0.61, 0.8, 1.5):  # (exactly 0.6 is flat to rounding error next to 0)
        assert rubber_band_minimiser(lam) == 0.0


def test_subgradient_sticks_scenario(lesson):
    """The 'stick at zero' question: a convex data loss with slope -0.15 at 0 plus 0.2*|w| is minimised
    at exactly 0 (a bowl (w - c)^2 has slope -2c at 0, so c = 0.075)."""
    question = _question(lesson, "subgradient-sticks")
    assert "−0.15" in question.prompt and "λ = 0.2" in question.prompt
    correct = [o for o in question.options if o.correct]
    assert len(correct) == 1 and correct[0].text.startswith("Yes")
    assert minimise(lambda w: (w - 0.075) ** 2 + 0.2 * np.abs(w)) == 0.0
    # and with a steeper data loss the weight does leave zero
    assert minimise(lambda w: (w - 0.15) ** 2 + 0.2 * np.abs(w)) > 0.0


def test_why_clamp_scenario_flickers_under_the_plain_step_and_clamp(lesson):
    """The numbers in `why-clamp`: data loss (w - 0.075)^2 (slope -0.15 at 0), alpha 0.1, lam 0.2.
    The plain step with sign(0) = 0 and the clamp leaves zero and comes back; the two-part step stays."""
    question = _question(lesson, "why-clamp")
    for fragment in ("−0.15", "α = 0.1", "λ = 0.2", "0.015 → 0.007 → 0.0006"):
        assert fragment in question.prompt + question.explanation, fragment
    alpha, lam = 0.1, 0.2

    def slope(w: float) -> float:
        return 2 * (w - 0.075)

    w, path = 0.0, []
    for _ in range(8):
        new = w - alpha * (slope(w) + lam * float(np.sign(w)))
        w = 0.0 if w * new < 0 else new
        path.append(w)
    assert [round(v, 4) for v in path[:4]] == [0.015, 0.007, 0.0006, 0.0]
    assert path[4] > 0, "the clamped weight leaves zero again"
    w = 0.0
    for _ in range(8):
        w = l1_step(w, alpha, lam, data_grad=slope(w))
        assert w == 0.0


def test_rubber_band_minimiser_is_soft_threshold_at_half_lambda(lesson):
    """`rubber-band-soft-threshold`: argmin (w - 0.3)^2 + lam|w| = S(0.3, lam/2), and with the 1/2
    convention argmin 1/2 (w - 0.3)^2 + lam|w| = S(0.3, lam)."""
    question = _question(lesson, "rubber-band-soft-threshold")
    assert [o.text for o in question.options if o.correct] == ["soft_threshold(0.3, λ/2)"]
    for lam in (0.0, 0.2, 0.5, 0.59, 0.61, 0.8, 1.5):
        assert math.isclose(rubber_band_minimiser(lam), soft_threshold(0.3, lam / 2), abs_tol=1e-6)
        half = minimise(lambda w, lam=lam: 0.5 * (w - 0.3) ** 2 + lam * np.abs(w))
        assert math.isclose(half, soft_threshold(0.3, lam), abs_tol=1e-6)


def test_l2_rubber_band_never_reaches_zero(lesson):
    assert "0.3/(1 + λ)" in _question(lesson, "l2-rubber-band-never-zero").prompt
    for lam in (0.2, 0.6, 1.0, 10.0, 100.0):
        found = minimise(lambda w, lam=lam: (w - 0.3) ** 2 + lam * w * w)
        assert found > 0.0 and math.isclose(found, 0.3 / (1 + lam), abs_tol=1e-6)


def test_coordinate_descent_update_is_the_one_weight_minimiser(lesson):
    """`coordinate-descent`: with the other weights fixed, argmin over w_j of
    1/2||Xw - y||^2 + lam||w||_1 is S(x_j^T r_j, lam) / ||x_j||^2, and it is 0 iff |x_j^T r_j| <= lam."""
    question = _question(lesson, "coordinate-descent")
    assert "soft_threshold(x_jᵀr_j, λ) / ‖x_j‖₂²" in question.prompt
    rng = np.random.default_rng(11)
    X, y, w = rng.standard_normal((30, 4)) * 0.3, rng.standard_normal(30) * 0.3, rng.standard_normal(4) * 0.3
    for j in range(4):
        for lam in (0.05, 0.5, 2.0):
            others = np.delete(np.arange(4), j)
            r = y - X[:, others] @ w[others]
            z = float(X[:, j] @ r)
            formula = soft_threshold(z, lam) / float(X[:, j] @ X[:, j])

            def objective(v: float, j=j, lam=lam, r=r) -> float:
                return 0.5 * float(np.sum((v * X[:, j] - r) ** 2)) + lam * abs(v)

            # convex in v: golden section finds the minimiser, and no neighbour beats the formula's value
            assert math.isclose(golden_section(objective, -5.0, 5.0), formula, abs_tol=1e-6)
            assert all(objective(formula) <= objective(formula + d) for d in (-1e-4, 1e-4))
            assert (formula == 0.0) == (abs(z) <= lam)


# ---------------------------------------------------------------------------------------------
# The taught update rule, run on a small Lasso problem (20 features, 3 of them real)
# ---------------------------------------------------------------------------------------------

SOLUTIONS = LESSON_PATH.parent.parent.parent / "solutions" / "lesson3"


def _reference(name: str) -> Callable:
    """A lesson 3 reference solution, the function the lesson teaches learners to write."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"lesson3_reference_{name}", SOLUTIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


@pytest.fixture(scope="module")
def lasso_problem():
    """X (50 x 20), y from 3 real features plus noise, lam, a safe step 1/||X||_2^2, the true support.
    The objective is 1/2 ||Xw - y||^2 + lam ||w||_1."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 20))
    w_true = np.zeros(20)
    support = np.sort(rng.choice(20, 3, replace=False))
    w_true[support] = [2.0, -1.5, 1.0]
    y = X @ w_true + 0.1 * rng.standard_normal(50)
    lam = 0.1 * float(np.max(np.abs(X.T @ y)))
    step = 1.0 / float(np.linalg.norm(X, 2)) ** 2
    return X, y, lam, step, support


def _zero_counts(update, X, y, steps: int = 1500) -> tuple[np.ndarray, list[int]]:
    w = np.zeros(X.shape[1])
    counts = []
    for _ in range(steps):
        w = update(w)
        counts.append(int(np.count_nonzero(w == 0.0)))
    return w, counts


def test_the_taught_l1_step_keeps_zeros_at_zero(lasso_problem):
    """The soft-thresholding (proximal) step as the lesson teaches it: once the iterates settle, the set
    of exact zeros never changes, it is the set of noise features, and every zero weight satisfies the
    lesson's condition |data slope| <= lam."""
    X, y, lam, step, support = lasso_problem
    soft_threshold = _reference("soft_threshold")

    def taught_step(w):
        return soft_threshold(w - step * X.T @ (X @ w - y), step * lam)

    w, counts = _zero_counts(taught_step, X, y)
    assert set(counts[200:]) == {17}
    zeros_before = w == 0.0
    for _ in range(200):  # from here on, a zero weight stays exactly zero at every step
        w = taught_step(w)
        assert np.array_equal(w == 0.0, zeros_before)
    assert np.flatnonzero(w).tolist() == support.tolist()
    slopes = X.T @ (X @ w - y)
    assert np.all(np.abs(slopes[w == 0.0]) <= lam)


def test_the_plain_step_with_clamp_does_not_keep_zeros(lesson, lasso_problem):
    """The contrast `why-clamp` and the clamp_to_zero prompt describe: with sign(0) = 0 and the clamp,
    weights keep leaving zero, so the number of exact zeros flickers from step to step."""
    assert "changes from step to step" in _question(lesson, "why-clamp").explanation
    assert "flickers from step to step" in " ".join(lesson.exercise("clamp_to_zero").prompt.split())
    X, y, lam, step, _ = lasso_problem
    sign_gradient = _reference("sign_gradient")
    clamp_to_zero = _reference("clamp_to_zero")

    def plain_step_with_clamp(w):
        return clamp_to_zero(w, w - step * (X.T @ (X @ w - y) + sign_gradient(w, lam)))

    w, counts = _zero_counts(plain_step_with_clamp, X, y)
    late = counts[1000:]
    assert sum(a != b for a, b in itertools.pairwise(late)) > len(late) // 2
    assert max(late) < 17, "it never even finds all 17 zeros of the minimum at once"
    left_zero = 0
    for _ in range(100):
        new = plain_step_with_clamp(w)
        left_zero += int(np.count_nonzero((w == 0.0) & (new != 0.0)))
        w = new
    assert left_zero >= 50, "weights at exactly 0 keep leaving zero"


# ---------------------------------------------------------------------------------------------
# Symbolic keys, checked with SymPy
# ---------------------------------------------------------------------------------------------

W_REAL = {"w": "real"}


def _objective_l1(s):
    return s["lam"] * sp.Abs(s["w"])


# question id -> (declared variables, function of the symbols returning the true answer)
SYMBOLIC_KEYS: dict[str, tuple[dict[str, str], Callable[[dict], sp.Expr]]] = {
    "l1-gradient": (
        {"w": "real", "lam": "positive"},
        lambda s: sp.diff(s["lam"] * sp.Abs(s["w"]), s["w"]),
    ),
    "l2-gradient": (
        {"w": "real", "lam": "positive"},
        lambda s: sp.diff(s["lam"] * s["w"] ** 2, s["w"]),
    ),
    "rubber-band-gradient": (
        {"w": "positive", "lam": "positive"},
        lambda s: sp.diff((s["w"] - sp.Rational(3, 10)) ** 2 + s["lam"] * sp.Abs(s["w"]), s["w"]),
    ),
    "elastic-net-gradient": (
        {"w": "real", "lam1": "positive", "lam2": "positive"},
        lambda s: sp.diff(s["lam1"] * sp.Abs(s["w"]) + s["lam2"] * s["w"] ** 2, s["w"]),
    ),
    "l1-update": (
        {"w": "real", "alpha": "positive", "lam": "positive"},
        lambda s: s["w"] - s["alpha"] * sp.diff(s["lam"] * sp.Abs(s["w"]), s["w"]),
    ),
}

_PROMPT_NAMES = {"lam": "lam", "lam1": "lam1", "lam2": "lam2", "alpha": "alpha", "w": "w"}


def _symbols(variables: dict[str, str]) -> dict[str, sp.Symbol]:
    return {name: sp.Symbol(name, **{assumption: True}) for name, assumption in variables.items()}


def _parse(text: str, symbols: dict[str, sp.Symbol]) -> sp.Expr:
    namespace = {"sign": sp.sign, "Abs": sp.Abs, **symbols}
    expr = sp.parse_expr(text, local_dict=namespace, evaluate=True)
    unknown = expr.free_symbols - set(symbols.values())
    assert not unknown, f"{text!r} uses undeclared symbols {unknown}"
    return expr


def _sample_points(variables: dict[str, str], count: int = 40) -> list[dict[str, float]]:
    """Points with every variable inside its assumption and w != 0; both signs of a real w."""
    rng = random.Random(20240603)
    points = []
    for _ in range(count):
        point = {}
        for name, assumption in variables.items():
            magnitude = rng.uniform(0.05, 3.0)
            point[name] = magnitude if assumption == "positive" else rng.choice((-1, 1)) * magnitude
        points.append(point)
    return points


def _differs(a: sp.Expr, b: sp.Expr, symbols, points) -> bool:
    for point in points:
        subs = {symbols[name]: value for name, value in point.items()}
        if not math.isclose(float(a.subs(subs)), float(b.subs(subs)), rel_tol=1e-9, abs_tol=1e-12):
            return True
    return False


def test_symbolic_ids_are_registered(lesson):
    symbolic = {q.id for q in lesson.questions if isinstance(q, SymbolicQuestion)}
    assert symbolic == SYMBOLIC_KEYS.keys(), "register every symbolic question with its true derivative"


@pytest.mark.parametrize("question_id", sorted(SYMBOLIC_KEYS))
def test_symbolic_key_is_the_true_derivative(lesson, question_id):
    question = _question(lesson, question_id)
    assert isinstance(question, SymbolicQuestion)
    variables, truth_of = SYMBOLIC_KEYS[question_id]
    assert dict(question.variables) == variables, f"{question_id}: variables or assumptions changed"
    symbols = _symbols(variables)
    truth = truth_of(symbols)
    key = _parse(question.answer, symbols)
    assert sp.simplify(truth - key) == 0, f"{question_id}: key {key} but the derivative is {truth}"
    assert not _differs(truth, key, symbols, _sample_points(variables)), question_id
    # the prompt tells the learner which names to type
    for name in variables:
        assert _PROMPT_NAMES[name] in question.prompt, f"{question_id}: prompt does not mention {name!r}"
    if question.answer.count("sign("):
        assert "sign(w)" in question.prompt, f"{question_id}: prompt should say sign(w) may be used"


@pytest.mark.parametrize("question_id", sorted(SYMBOLIC_KEYS))
def test_symbolic_wrong_answers_differ_from_key_and_each_other(lesson, question_id):
    question = _question(lesson, question_id)
    variables, truth_of = SYMBOLIC_KEYS[question_id]
    symbols = _symbols(variables)
    truth = truth_of(symbols)
    points = _sample_points(variables)
    assert question.wrong_answers, f"{question_id}: list the classic wrong answers"
    parsed = []
    for wrong in question.wrong_answers:
        assert wrong.feedback.strip(), f"{question_id}: wrong answer {wrong.answer!r} has no feedback"
        expr = _parse(wrong.answer, symbols)
        assert sp.simplify(expr - truth) != 0 and _differs(expr, truth, symbols, points), (
            f"{question_id}: wrong answer {wrong.answer!r} equals the key"
        )
        parsed.append((wrong.answer, expr))
    for (text_a, a), (text_b, b) in itertools.combinations(parsed, 2):
        assert _differs(a, b, symbols, points), (
            f"{question_id}: wrong answers {text_a!r} and {text_b!r} are equivalent; the second is unreachable"
        )


def test_symbolic_domains_respect_assumptions(lesson):
    for question in lesson.questions:
        if not isinstance(question, SymbolicQuestion):
            continue
        assumptions = dict(question.variables)
        for name, (low, high) in question.domain:
            if assumptions[name] == "positive":
                assert low > 0, f"{question.id}: domain of {name} must be positive"
            # a real w must be sampled on both sides of 0, or lam and lam*sign(w) would look equal
            if question.id in ("l1-gradient", "elastic-net-gradient", "l1-update") and name == "w":
                assert low < 0 < high, f"{question.id}: the domain of w must include negative values"


# ---------------------------------------------------------------------------------------------
# Grading holes, checked through the real checker (quizkit.questions.judge)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def symbolic_checker():
    from quizkit.symbolic import SymbolicChecker

    # No spare worker: these checks are not meant to time out, and a spare costs another SymPy start.
    with SymbolicChecker(timeout=5.0, spare=False) as checker:
        yield checker


def _judged(lesson, question_id: str, answer: str, checker=None):
    from quizkit.questions import judge

    return judge(_question(lesson, question_id), answer, symbolic=checker)


@pytest.mark.parametrize(
    "answer", ["2*|w-0.3|+lam", "|2w-0.6|+λ", "2*(w-0.3)+lam*sign(w-0.3)", "2*(w - 0.3) + lam*sign(w - 0.1)"]
)
def test_rubber_band_gradient_rejects_answers_that_differ_only_below_the_old_minimum(lesson, symbolic_checker, answer):
    verdict = _judged(lesson, "rubber-band-gradient", answer, symbolic_checker)
    assert verdict.status.value == "incorrect", verdict


def test_rubber_band_gradient_still_accepts_the_key_written_another_way(lesson, symbolic_checker):
    assert _judged(lesson, "rubber-band-gradient", "2w - 0.6 + λ", symbolic_checker).is_correct


@pytest.mark.parametrize(
    ("question_id", "answer", "fragment"),
    [
        ("l1-gradient", "λ|w|", "penalty, not its derivative"),
        ("l2-gradient", "λw^2", "penalty itself"),
        ("l1-update", "w - αλ", "Right only for w > 0"),
        ("l1-update", "sign(w)*max(|w| - alpha*lam, 0)", "soft-thresholding step"),
    ],
)
def test_common_symbolic_slips_get_targeted_feedback(lesson, symbolic_checker, question_id, answer, fragment):
    verdict = _judged(lesson, question_id, answer, symbolic_checker)
    assert verdict.status.value == "incorrect"
    assert any(fragment in line for line in verdict.feedback), verdict.feedback


@pytest.mark.parametrize(
    ("question_id", "answer"),
    [
        ("rubber-band-min-large-lambda", "0.004"),
        ("rubber-band-min-large-lambda", "-0.004"),
        ("rubber-band-threshold", "0.596"),
        ("rubber-band-threshold", "0.604"),
    ],
)
def test_exact_value_questions_reject_near_misses(lesson, question_id, answer):
    assert not _judged(lesson, question_id, answer).is_correct


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [("0.336", "L2 step"), ("0.368", "w·(1 − αλ)"), ("0.32", "")],
)
def test_l1_step_no_cross_separates_l1_l2_and_proportional_rules(lesson, answer, fragment):
    from quizkit.questions import judge

    verdict = judge(_variant_with(lesson, "l1-step-no-cross", w=0.4, lam=0.8), answer)
    assert verdict.is_correct == (fragment == "")
    assert fragment in " ".join(verdict.feedback)


def test_rubber_band_threshold_names_the_dropped_factor_two(lesson):
    verdict = _judged(lesson, "rubber-band-threshold", "0.3")
    assert not verdict.is_correct and "factor 2" in " ".join(verdict.feedback)
