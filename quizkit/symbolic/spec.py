"""What a symbolic question expects and what the checker answers, and their wire form.

Both sides of the process boundary use this module: the parent builds a :class:`SymbolicSpec`
and reads a :class:`SymbolicResult`; only the plain dicts made here (strings and numbers) cross
to the worker and back. Nothing here imports SymPy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quizkit import mathparse
from quizkit.mathparse import ParseError
from quizkit.rules import SYMBOLIC_TOLERANCE, domain_bounds_problem, domain_name_problem, symbolic_tolerance_problem
from quizkit.verdict import Status

if TYPE_CHECKING:
    from quizkit.lesson import ExpressionWrong

TOO_COMPLEX = "This expression is too complex to check; please simplify it."
TOO_LARGE = "The values of this expression are too large to check; please simplify it."

DEFAULT_TIMEOUT = 1.5  # seconds a check may take before the parent kills the worker


def time_budgets(timeout: float) -> dict[str, float]:
    """The worker's soft time budgets for a check the parent bounds by ``timeout`` s.

    Every one scales with ``timeout``: a slow or loaded machine given a longer limit reaches the
    same verdicts, only later. The parent sends them with each request.
    """
    return {
        # SymPy's simplify, when too few points are usable to judge numerically.
        "simplify_budget": timeout / 2,
        # Exact evaluation at the points where floating point is not enough, all together.
        "exact_budget": timeout * 0.27,
        # One exact evaluation, one constant's value or one derivative (0.2 s of 1.5).
        "point_budget": timeout * 2 / 15,
        # What the worker may spend before answering on its own, short of the hard kill.
        "check_budget": timeout * 0.8,
    }


# ============================================================================================
# Model
# ============================================================================================


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping, so specs can be frozen dataclasses and cache keys."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        # dict() takes either form: a mapping, or (key, value) pairs as the lesson model stores.
        self._items: dict[str, Any] = dict(items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


@dataclass(frozen=True)
class SymbolicSpec:
    """What a symbolic question expects.

    ``variables`` maps each name to an assumption (see ``mathparse.known_assumptions()``);
    ``domain`` optionally narrows where a variable is sampled, e.g. ``{"w": (0.0, 0.3)}``.
    Both accept a mapping or a sequence of (name, value) pairs and are stored as
    :class:`FrozenMap`, so specs are hashable.
    """

    key: str
    variables: Mapping[str, str]
    wrong_answers: tuple[ExpressionWrong, ...] = ()
    tolerance: float = SYMBOLIC_TOLERANCE
    domain: Mapping[str, tuple[float, float]] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        # Frozen dataclass: normalising the containers has to go through object.__setattr__.
        object.__setattr__(self, "variables", FrozenMap(self.variables))
        object.__setattr__(self, "wrong_answers", tuple(self.wrong_answers))
        pairs = FrozenMap(self.domain).items()
        domain = {name: (float(low), float(high)) for name, (low, high) in pairs}
        object.__setattr__(self, "domain", FrozenMap(domain))


@dataclass(frozen=True)
class SymbolicResult:
    """The verdict on one answer.

    ``status`` is ``Status.CORRECT``, ``INCORRECT`` or ``INVALID`` (could not be read; not an
    attempt). ``interpreted_as`` is the one-line reading of the answer (``λ·sign(w)``), ``None``
    when it could not be read. For incorrect answers ``counterexample`` holds a point where the
    answer and the key differ: the declared variable names, plus ``"answer"`` and ``"expected"``
    (``answer`` is NaN where the answer is not a real number). For invalid answers ``span`` is
    the (start, end) of the part of the answer the message is about, for a caret under it.
    """

    status: Status
    feedback: tuple[str, ...]
    interpreted_as: str | None
    counterexample: dict[str, float] | None = None
    span: tuple[int, int] | None = None


def spec_problems(
    variables: Mapping[str, str],
    domain: Mapping[str, Sequence[float]],
    tolerance: float,
) -> list[str]:
    """Problems in a spec that need no SymPy to find: declarations, domains, tolerance.

    The rules are the lesson loader's (:mod:`quizkit.rules`, and the answer reader's for variable
    names), so a lesson that loads never fails here; specs built in code are checked the same way.
    """
    problems = mathparse.variable_problems(variables)
    tolerance_problem = symbolic_tolerance_problem(tolerance)
    if tolerance_problem is not None:
        problems.append(tolerance_problem)
    for name, bounds in domain.items():
        problem = domain_name_problem(name, variables)
        if problem is None:
            problem = domain_bounds_problem(name, bounds, variables[name])
        if problem is not None:
            problems.append(problem)
    return problems


def spec_payload(spec: SymbolicSpec) -> dict[str, Any]:
    return {
        "key": spec.key,
        "variables": [[name, assumption] for name, assumption in spec.variables.items()],
        "wrong_answers": [[wrong.answer, wrong.feedback] for wrong in spec.wrong_answers],
        "tolerance": spec.tolerance,
        "domain": [[name, low, high] for name, (low, high) in spec.domain.items()],
    }


def invalid_result(error: ParseError) -> SymbolicResult:
    return SymbolicResult(Status.INVALID, (error.message,), None, None, error.span)


def result_from_payload(payload: Mapping[str, Any]) -> SymbolicResult:
    counterexample = payload.get("counterexample")
    return SymbolicResult(
        status=Status(payload["status"]),
        feedback=tuple(str(line) for line in payload["feedback"]),
        interpreted_as=payload.get("interpreted_as"),
        counterexample=None if counterexample is None else {str(k): float(v) for k, v in counterexample.items()},
        span=None if payload.get("span") is None else (int(payload["span"][0]), int(payload["span"][1])),
    )


# ============================================================================================


def result_payload(
    status: Status,
    feedback: list[str],
    interpreted: str | None = None,
    counterexample: dict[str, float] | None = None,
    span: tuple[int, int] | None = None,
) -> dict[str, Any]:
    return {
        "status": status.value,
        "feedback": feedback,
        "interpreted_as": interpreted,
        "counterexample": counterexample,
        "span": None if span is None else list(span),
    }
