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
from pathlib import Path
from typing import Callable

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

LESSON_PATH = Path(__file__).resolve().parent.parent / "exercises" / "lesson3" / "lesson.yaml"

SYMBOLIC_IDS = {"l1-gradient", "l2-gradient", "rubber-band-gradient", "elastic-net-gradient", "l1-update"}


@pytest.fixture(scope="module")
def lesson():
    return load_lesson(LESSON_PATH)


def _question(lesson, question_id: str):
    question = lesson.question(question_id)
    assert question is not None, f"question {question_id!r} is missing from {LESSON_PATH.name}"
    return question


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
    assert SYMBOLIC_IDS <= {q.id for q in symbolic}
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
    for question in lesson.questions:
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


def l1_step(w: float, alpha: float, lam: float, data_grad: float = 0.0) -> float:
    """One gradient step on L_data + lam*|w|; a step that changes the sign is clamped to exactly 0."""
    gradient = penalty_gradient(lambda v: lam * abs(v), w) + data_grad
    new = w - alpha * gradient
    if w * new < 0:
        new = 0.0
    return new


def l2_step(w: float, alpha: float, lam: float, data_grad: float = 0.0) -> float:
    """One gradient step on L_data + lam*w**2 (no clamping: L2 implementations do not clamp)."""
    return w - alpha * (penalty_gradient(lambda v: lam * v * v, w) + data_grad)


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


# question id -> (fragments its prompt must contain, so the numbers here match the prompt; recomputation)
NUMERIC_KEYS: dict[str, tuple[tuple[str, ...], Callable[[], float]]] = {
    "l1-step-clamp": (("w = 0.05", "α = 0.1", "λ = 0.8", "data gradient"), lambda: l1_step(0.05, 0.1, 0.8)),
    "l1-step-no-cross": (("w = 0.5", "α = 0.1", "λ = 0.8", "data gradient 0"), lambda: l1_step(0.5, 0.1, 0.8)),
    "l1-step-with-data": (
        ("w = 0.3", "α = 0.1", "λ = 0.5", "∂L_data/∂w = −0.2"),
        lambda: l1_step(0.3, 0.1, 0.5, data_grad=-0.2),
    ),
    "l1-steps-to-zero": (("w = 0.23", "α = 0.1", "λ = 0.5"), lambda: l1_steps_until_zero(0.23, 0.1, 0.5)),
    "l2-step": (("w = 0.002", "α = 0.1", "λ = 0.5", "λw²"), lambda: l2_step(0.002, 0.1, 0.5)),
    "l2-shrink-after-ten": (("α = 0.1", "λ = 0.5", "10 gradient steps"), lambda: l2_fraction_left(10, 0.1, 0.5)),
    "rubber-band-min-small-lambda": (("(w − 0.3)² + λ|w|", "λ = 0.2"), lambda: rubber_band_minimiser(0.2)),
    "rubber-band-threshold": (("(w − 0.3)² + λ|w|", "smallest λ"), smallest_lambda_with_zero_minimiser),
    "rubber-band-min-large-lambda": (("(w − 0.3)² + λ|w|", "λ = 0.8"), lambda: rubber_band_minimiser(0.8)),
}


def test_every_numeric_question_has_a_recomputation(lesson):
    numeric = {q.id for q in lesson.questions if isinstance(q, NumericQuestion)}
    missing = sorted(numeric - NUMERIC_KEYS.keys())
    stale = sorted(NUMERIC_KEYS.keys() - numeric)
    assert not missing, f"numeric questions without a recomputation in this test: {missing}"
    assert not stale, f"recomputations for questions that no longer exist: {stale}"


@pytest.mark.parametrize("question_id", sorted(NUMERIC_KEYS))
def test_numeric_key_matches_recomputation(lesson, question_id):
    question = _question(lesson, question_id)
    assert isinstance(question, NumericQuestion)
    fragments, recompute = NUMERIC_KEYS[question_id]
    for fragment in fragments:
        assert fragment in question.prompt, f"{question_id}: prompt no longer mentions {fragment!r}"
    truth = float(recompute())
    assert question.tolerance.accepts(truth, question.answer), (
        f"{question_id}: key {question.answer} but recomputed {truth}"
    )


@pytest.mark.parametrize("question_id", sorted(NUMERIC_KEYS))
def test_numeric_wrong_answers_are_not_accepted(lesson, question_id):
    question = _question(lesson, question_id)
    truth = float(NUMERIC_KEYS[question_id][1]())
    values = [wrong.answer for wrong in question.wrong_answers]
    assert len(set(values)) == len(values), f"{question_id}: a wrong answer is listed twice"
    for wrong in question.wrong_answers:
        assert wrong.feedback.strip(), f"{question_id}: wrong answer {wrong.answer} has no feedback"
        assert not question.tolerance.accepts(wrong.answer, question.answer), (
            f"{question_id}: wrong answer {wrong.answer} is accepted by the key's tolerance"
        )
        assert not question.tolerance.accepts(wrong.answer, truth), (
            f"{question_id}: wrong answer {wrong.answer} is within tolerance of the true value {truth}"
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
