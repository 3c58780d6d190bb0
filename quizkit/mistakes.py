"""Hints for common mistakes, recognised from judged cases.

A detector looks at the failing :class:`~quizkit.results.CaseResult` objects of one file
(inputs, expected, got, error) and returns a hint or None. There are two kinds:

- *generic* detectors, for any exercise, most recognising their mistake in any one failing case:
  ``return`` forgotten, a list returned, tiny values where exact zeros are needed (not an input
  passed through unchanged), an input modified in place, code that only works on scalars, a
  flattened result, integer rounding, nan from 0/0; two make claims about the whole result and
  need every failing case with wrong values to agree: the sign flipped, and zeros returned whatever
  the input;
- *an exercise's own mistakes*, listed in its lesson file under ``mistakes``: a formula over the
  exercise's parameters with a message (the L2 gradient ``2*lam*w`` instead of ``lam*sign(w)``,
  soft thresholding without the clamp at 0, ...), given when the learner's wrong values equal the
  formula's on *every* failing case with wrong values, since one matching case is weak evidence
  (many bugs give all zeros on some case); or a detector named from :data:`NAMED_DETECTORS`, for
  mistakes a formula cannot describe (a shrink by the wrong amount, which features a Lasso
  missed). Nothing here is keyed by exercise id, so another lesson's ``sign_gradient`` inherits
  nothing it did not ask for.

Hints are listed most specific first (the exercise's own, then generic ones), each at most once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from quizkit.model import frozen
from quizkit.results import AnyRunStatus
from quizkit.rules import INTEGER_DTYPE_KINDS, REAL_DTYPE_KINDS, TINY, tiny_where_zero
from quizkit.sandbox import RunStatus

if TYPE_CHECKING:
    from quizkit.lesson import Exercise
    from quizkit.results import CaseResult

MAX_HINTS = 4
MAX_REMEMBERED_VALUES = 256  # per formula mistake: a lesson's cases, with room to spare

# A detector looks at all failing cases of one file and returns a hint or None.
Detector = Callable[[Sequence["CaseResult"]], "str | None"]
CaseDetector = Callable[["CaseResult"], "str | None"]


def on_any_case(detector: CaseDetector) -> Detector:
    """A detector that fires when ``detector`` recognises the mistake in any one failing case."""

    def detect(failing: Sequence[CaseResult]) -> str | None:
        return next((hint for hint in map(detector, failing) if hint is not None), None)

    detect.__name__ = detector.__name__
    return detect


@functools.lru_cache(maxsize=64)  # every detector of one diagnosis asks about the same few cases
def _wrong_values(case: CaseResult) -> np.ndarray | None:
    """The learner's values (as float64) of a case that failed on its values; None if the case
    failed for another reason (an exception, a wrong shape, right values but a modified input)."""
    if not _comparable(case) or case.got is None or case.expected is None:
        return None
    got = case.got.astype(np.float64)
    return None if _same(got, case.expected.astype(np.float64)) else got


def on_every_wrong_case(hint: str, matches: Callable[[CaseResult, np.ndarray], bool]) -> Detector:
    """A detector that gives ``hint`` when ``matches(case, got)`` holds on *every* failing case whose
    values are wrong (and there is at least one): for claims about the whole result, where one
    matching case is weak evidence (many different bugs return all zeros on some case)."""

    def detect(failing: Sequence[CaseResult]) -> str | None:
        evidence = [matches(case, got) for case in failing if (got := _wrong_values(case)) is not None]
        return hint if evidence and all(evidence) else None

    detect.__name__ = getattr(matches, "__name__", "on_every_wrong_case")
    return detect


# ---------------------------------------------------------------------------------------------
# Generic detectors
# ---------------------------------------------------------------------------------------------

# Messages numpy and Python give when array-only code paths meet a scalar-only function.
_SCALAR_ONLY_ERRORS = (
    "truth value of an array",
    "truth value of an empty array",
    "only 0-dimensional arrays can be converted",
    "only length-1 arrays can be converted",
    "only size-1 arrays can be converted",
    "only integer scalar arrays",
    "must be real number, not numpy.ndarray",
)


def _returned_none(case: CaseResult) -> str | None:
    if case.error is None and case.got is None and case.return_type == "NoneType":
        return "you returned None — did you forget `return`?"
    return None


def _returned_sequence(case: CaseResult) -> str | None:
    if case.error is None and case.got is None and case.return_type in ("list", "tuple"):
        return f"you returned a {case.return_type}: return a numpy array instead (np.asarray(result, dtype=float))"
    return None


def _not_implemented(case: CaseResult) -> str | None:
    if case.error is not None and case.error.startswith("NotImplementedError"):
        return "the starter's `raise NotImplementedError` is still there: replace it with your code"
    return None


def _scalar_only(case: CaseResult) -> str | None:
    takes_array = any(isinstance(value, np.ndarray) and value.ndim > 0 for _, value in case.inputs)
    if takes_array and case.error is not None and any(text in case.error for text in _SCALAR_ONLY_ERRORS):
        return (
            "your function only works on scalars: `if w > 0`, math.* and float(w) fail on arrays; "
            "use elementwise numpy operations (np.sign, np.where, np.maximum) instead"
        )
    return None


def _tiny_not_zero(case: CaseResult) -> str | None:
    if _comparable(case):
        assert case.got is not None and case.expected is not None
        tiny = tiny_where_zero(case.got.astype(np.float64), case.expected)
        # A tiny input passed through unchanged (an identity function on 1e-300) is not an
        # arithmetic leftover, and this hint would mislead.
        for _, value in case.inputs:
            given = np.asarray(value)
            if given.shape == case.got.shape:
                tiny &= case.got != given
        if tiny.any():
            return (
                "entries that should be exactly 0.0 are tiny but non-zero (e.g. 1e-12): "
                "set them to 0.0 exactly instead of relying on arithmetic to get there"
            )
    return None


def _modified_input(case: CaseResult) -> str | None:
    if any(case.inputs_modified):
        return "you modified the input array in place: work on a copy (np.array(w, dtype=float) or np.where)"
    return None


def _flattened(case: CaseResult) -> str | None:
    got, expected = case.got, case.expected
    if got is None or expected is None or got.shape == expected.shape or expected.ndim == 0:
        return None
    if got.size == expected.size:
        return "your result has the right entries in the wrong shape: keep the input's shape (don't flatten or ravel)"
    return None


def _scalar_wrapped(case: CaseResult) -> str | None:
    got, expected = case.got, case.expected
    if got is not None and expected is not None and expected.ndim == 0 and got.ndim > 0:
        return "for a scalar input return a float or a 0-d array, not an array of shape (1,) or a list"
    return None


def _is_negated(case: CaseResult, got: np.ndarray) -> bool:
    assert case.expected is not None
    want = case.expected.astype(np.float64)
    return bool(np.any(want != 0)) and _same(got, -want)


def _is_all_zero(case: CaseResult, got: np.ndarray) -> bool:
    return not np.any(got)


def _integer_rounding(case: CaseResult) -> str | None:
    if case.got is not None and case.got.dtype.kind in INTEGER_DTYPE_KINDS and not case.passed:
        return f"your result has dtype {case.got.dtype}, which rounds fractions away: return floats"
    return None


def _nan_where_finite(case: CaseResult) -> str | None:
    if _comparable(case):
        assert case.got is not None and case.expected is not None
        if np.any(np.isnan(case.got.astype(np.float64)) & np.isfinite(case.expected)):
            return "your result contains nan: 0/0 (for example w / abs(w) at w == 0) gives nan; handle zero separately"
    return None


GENERIC_DETECTORS: tuple[Detector, ...] = (
    *(
        on_any_case(detector)
        for detector in (
            _not_implemented,
            _returned_none,
            _returned_sequence,
            _scalar_only,
            _tiny_not_zero,
            _modified_input,
            _scalar_wrapped,
            _flattened,
            _integer_rounding,
            _nan_where_finite,
        )
    ),
    # These two claim something about the whole result, so one matching case is not enough.
    on_every_wrong_case(
        "your result has the wrong sign: every non-zero entry is the negative of the expected one", _is_negated
    ),
    on_every_wrong_case(
        "your result is all 0.0 in every case where it is wrong: check that you return what you computed "
        "(and, if a threshold zeroes it, that the threshold is not too large)",
        _is_all_zero,
    ),
)


def _comparable(case: CaseResult) -> bool:
    """A failing case whose result is numeric and shaped like the expected one."""
    return (
        not case.passed
        and case.got is not None
        and case.expected is not None
        and case.got.shape == case.expected.shape
        and case.got.dtype.kind in REAL_DTYPE_KINDS
    )


# ---------------------------------------------------------------------------------------------
# Known wrong formulas
# ---------------------------------------------------------------------------------------------


@frozen(eq=True)
class WrongFormula:
    """A typical wrong answer, as a function of the exercise's arguments, and what to say about it.

    It is diagnosed when the learner's result equals the formula on *every* failing case whose
    values are wrong (and there is at least one): a single matching case is weak evidence, since
    many different bugs return all zeros on some case.
    """

    hint: str
    formula: Callable[..., object]

    def __call__(self, failing: Sequence[CaseResult]) -> str | None:
        return on_every_wrong_case(self.hint, self._matches)(failing)

    def _matches(self, case: CaseResult, got: np.ndarray) -> bool:
        """Whether the learner's wrong values equal the formula's."""
        args = [np.array(value, dtype=np.float64) for _, value in case.inputs]
        with np.errstate(all="ignore"):
            candidate = np.asarray(self.formula(*args), dtype=np.float64)
        return candidate.shape == got.shape and _same(got, candidate)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """``np.allclose(a, b, rtol=1e-9, atol=0, equal_nan=True)``, without its overhead on small arrays."""
    if a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes():
        return True
    with np.errstate(all="ignore"):
        close = (a == b) | (np.isnan(a) & np.isnan(b))
        close |= np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= 1e-9 * np.abs(b))
    return bool(close.all())


def _treated_tiny_as_zero(case: CaseResult) -> str | None:
    """sign_gradient: tiny non-zero weights given gradient 0, as with ``abs(w) < 1e-12``."""
    if not _comparable(case) or case.got is None or case.expected is None or case.got.dtype.kind != "f":
        return None
    w = np.asarray(case.inputs[0][1], dtype=np.float64)
    if w.shape != case.got.shape:
        return None
    zeroed = (case.got == 0) & (case.expected != 0) & (np.abs(w) <= TINY)
    # Only when the ordinary weights are right: a function that returns zeros everywhere also
    # "zeroes" the tiny weights, and this hint would send its author the wrong way.
    ordinary = np.abs(w) > TINY
    right_elsewhere = bool(np.any(ordinary & (case.expected != 0))) and _same(
        case.got[ordinary].astype(np.float64), case.expected[ordinary].astype(np.float64)
    )
    if zeroed.any() and right_elsewhere:
        return "you treated very small weights as zero: only w == 0 exactly has gradient 0; 1e-300 is still positive"
    return None


def _shrinks_by_wrong_amount(case: CaseResult) -> str | None:
    """soft_threshold: entries that survive move toward zero by a constant other than threshold."""
    if not _comparable(case) or case.got is None or case.expected is None or case.got.dtype.kind != "f":
        return None
    w = np.asarray(case.inputs[0][1], dtype=np.float64)
    threshold = float(np.asarray(case.inputs[1][1]))
    got = case.got.astype(np.float64)
    if w.shape != got.shape:
        return None
    # Entries that should survive and came out wrong; absorbed shifts (1e300 - 0.5) never count.
    kept = (case.expected != 0) & (got != 0) & (np.sign(got) == np.sign(w)) & (got != case.expected)
    if not kept.any():
        return None
    with np.errstate(all="ignore"):
        shrink = np.abs(w[kept]) - np.abs(got[kept])
    amount = float(shrink[0])
    consistent = amount > 0 and np.allclose(shrink, amount, rtol=1e-9, atol=0)
    if consistent and threshold > 0 and not np.isclose(amount, threshold, rtol=1e-6, atol=0):
        return f"your result moves weights toward zero by {amount:g} instead of by threshold ({threshold:g})"
    return None


def _lasso_support(case: CaseResult) -> str | None:
    """lasso_ista: which features the learner missed or kept, and the objective both weights reach.

    The reference's non-zero weights stand for the real features (in the synthetic cases they are
    exactly the features the data was made from), its exact zeros for the noise features.
    """
    if not _comparable(case) or case.got is None or case.expected is None or case.got.ndim != 1:
        return None
    arguments = dict(case.inputs)
    X = np.asarray(arguments.get("X"), dtype=np.float64)
    y = np.asarray(arguments.get("y"), dtype=np.float64)
    lam = float(np.asarray(arguments.get("lam")))
    got = case.got.astype(np.float64)
    want = case.expected.astype(np.float64)
    missed = np.flatnonzero((want != 0) & (got == 0)).tolist()
    kept = np.flatnonzero((want == 0) & (got != 0)).tolist()
    if not missed and not kept:
        return None

    def objective(w: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            return float(0.5 * np.sum((X @ w - y) ** 2) + lam * np.sum(np.abs(w)))

    parts = []
    if missed:
        parts.append(f"features {missed} are non-zero in the reference (real features) but 0.0 in yours")
    if kept:
        parts.append(f"features {kept} should be exactly 0.0 (noise features) but you kept them")
    return (
        f"in case '{case.name}': " + "; ".join(parts) + f"; your objective 1/2 ||Xw - y||^2 + lam ||w||_1 is "
        f"{objective(got):.6g}, the reference's {objective(want):.6g}"
    )


class FormulaMistake:
    """A typical mistake written in the lesson file: the wrong result as a formula over the
    exercise's parameters (read with the answer reader's allow-list, computed with numpy by
    :class:`quizkit.formula.Formula`, never evaluated as code), diagnosed like :class:`WrongFormula`."""

    def __init__(self, hint: str, formula: str, parameters: Sequence[str]) -> None:
        from quizkit.formula import Formula

        self.hint = hint
        self.formula = Formula(formula, parameters)
        # Batch grading diagnoses the same cases file after file: the formula's values per input.
        self._values: dict[tuple[object, ...], np.ndarray] = {}

    def __call__(self, failing: Sequence[CaseResult]) -> str | None:
        return on_every_wrong_case(self.hint, self._matches)(failing)

    def _matches(self, case: CaseResult, got: np.ndarray) -> bool:
        values = {name: np.array(value, dtype=np.float64) for name, value in case.inputs}
        key = tuple((name, array.shape, array.tobytes()) for name, array in values.items())
        candidate = self._values.get(key)
        if candidate is None:
            candidate = self.formula.array(values)
            if len(self._values) >= MAX_REMEMBERED_VALUES:
                self._values.clear()
            self._values[key] = candidate
        return candidate.shape == got.shape and _same(got, candidate)


# Detectors that need more than a formula can say; an exercise opts in by name under `mistakes`
# (`detector: lasso_support`). The names are declared in quizkit.lesson_schema.DETECTOR_NAMES.
NAMED_DETECTORS: dict[str, CaseDetector] = {
    "treated_tiny_as_zero": lambda case: _treated_tiny_as_zero(case),
    "shrinks_by_wrong_amount": lambda case: _shrinks_by_wrong_amount(case),
    "lasso_support": lambda case: _lasso_support(case),
}


def exercise_detectors(exercise: Exercise) -> tuple[Detector, ...]:
    """The detectors an exercise's YAML lists under ``mistakes``, in the order written."""
    from quizkit.formula import ParseError

    detectors: list[Detector] = []
    for mistake in exercise.mistakes:
        if mistake.formula:
            try:
                detectors.append(FormulaMistake(mistake.message, mistake.formula, exercise.parameters))
            except (ParseError, ValueError):  # validate reports it at its line; grading goes on
                continue
        else:
            detectors.append(on_any_case(NAMED_DETECTORS[mistake.detector]))
    return tuple(detectors)


# Hints about the run as a whole, by the sandbox's run status.
RUN_HINTS: dict[AnyRunStatus, str] = {
    RunStatus.TIMEOUT: "the run hit the time limit: look for a loop that never ends",
    RunStatus.MEMORY_LIMIT: "the run ran out of memory: avoid building arrays much larger than the input",
    RunStatus.MISSING_FUNCTION: "the function must be named exactly as in the starter file",
}


def diagnose(
    exercise_id: str, run_status: AnyRunStatus, cases: Sequence[CaseResult], detectors: Sequence[Detector] = ()
) -> tuple[str, ...]:
    """Likely mistakes behind the failing ``cases``, most specific first, without repeats:
    ``detectors`` are the exercise's own (see :func:`exercise_detectors`), then the generic ones."""
    failing = [case for case in cases if not case.passed]
    hints: list[str] = []
    if run_status in RUN_HINTS:
        hints.append(RUN_HINTS[run_status])
    for detector in (*detectors, *GENERIC_DETECTORS):
        hint = detector(failing)
        if hint is not None and hint not in hints:
            hints.append(hint)
    return tuple(hints[:MAX_HINTS])
