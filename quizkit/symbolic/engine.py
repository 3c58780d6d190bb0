"""The worker side: SymPy parses, evaluates and compares (SymPy is imported only in the worker process).

Both expressions are evaluated in floating point at the sample points (:mod:`.sampling`);
where floating point sees a difference, the point is re-evaluated exactly (rational point, 30
digits, ``evalf(strict=True)``, time-bounded), and a point without accurate digits is dropped,
so a confirmed difference is a true counterexample. ``simplify`` decides, within a budget, when
too few points are usable.
"""

from __future__ import annotations

import json
import math
import random
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from quizkit import mathparse
from quizkit.mathparse import ParseError
from quizkit.rules import SYMBOLIC_TOLERANCE
from quizkit.symbolic.sampling import Point, sample_points
from quizkit.symbolic.spec import DEFAULT_TIMEOUT, TOO_COMPLEX, TOO_LARGE, result_payload, time_budgets
from quizkit.verdict import Status

_MIN_AGREEING_POINTS = 8
_CLEARLY_APART = 1e-6  # relative difference that floating point cannot fake in these expressions
_MAX_UNDEFINED_POINTS = 1  # answer undefined where the key is defined, at more points: wrong
_EXACT_DIGITS = 30
_EXACT_MAX_DIGITS = 2000  # working precision evalf may raise to (cancellation in cosh² − sinh²)
_SPEC_CACHE_SIZE = 64


# ============================================================================================
# Worker side: runs in the child process, the only place SymPy is imported
# ============================================================================================


class _BudgetExceeded(BaseException):
    """A soft time budget inside the worker ran out.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` blocks inside SymPy
    cannot absorb it."""


@contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python work after ``seconds`` (SIGALRM). The parent's kill is the backstop
    for work that signals cannot interrupt."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _BudgetExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


FloatFunction = Callable[[Point], float]


def _sign(value: float) -> float:
    return (value > 0) - (value < 0)


def _power(base: float, exponent: float) -> float:
    result = base**exponent
    # A negative base with a fractional exponent gives a complex number: not a real point.
    return math.nan if isinstance(result, complex) else result


def _compile(
    expression: Any, sp: Any, index: Mapping[Any, int], fold: Callable[[Any], float | None]
) -> FloatFunction | None:
    """A fast float evaluator for ``expression``, or None if it uses something unsupported.

    Constant parts (``cosh(400)² − sinh(400)²``) are evaluated once by ``fold``, exactly, so
    floating point never meets their huge intermediate values; None from it means "no usable
    value", which makes the whole expression go the exact way.
    """
    unary: dict[Any, Callable[[float], float]] = {
        sp.sign: _sign, sp.Abs: abs, sp.exp: math.exp, sp.log: math.log,
        sp.sin: math.sin, sp.cos: math.cos, sp.tan: math.tan,
        sp.sinh: math.sinh, sp.cosh: math.cosh, sp.tanh: math.tanh,
        sp.asin: math.asin, sp.acos: math.acos, sp.atan: math.atan,
    }  # fmt: skip

    def build(node: Any) -> FloatFunction | None:
        if node.is_Symbol:
            position = index[node]
            return lambda point: point[position]
        if not node.free_symbols and not (node.is_Number or node.is_NumberSymbol):
            value = fold(node)
            return None if value is None else (lambda point: value)
        if node.is_Number or node.is_NumberSymbol:
            constant = float(node)  # enormous rationals become inf and make the point unusable
            return lambda point: constant
        parts = [build(argument) for argument in node.args]
        functions = [part for part in parts if part is not None]
        if len(functions) != len(parts):
            return None
        if node.is_Add:
            return lambda point: sum(function(point) for function in functions)
        if node.is_Mul:
            return lambda point: math.prod(function(point) for function in functions)
        if node.is_Pow:
            base, exponent = functions
            return lambda point: _power(base(point), exponent(point))
        if node.func in unary and len(functions) == 1:
            (function,) = functions
            outer = unary[node.func]
            return lambda point: outer(function(point))
        if node.func is sp.Heaviside:
            argument = functions[0]
            at_zero = functions[1] if len(functions) > 1 else (lambda point: 0.5)
            return lambda point: _heaviside(argument(point), at_zero(point))
        if node.func is sp.Max:
            return lambda point: max(function(point) for function in functions)
        if node.func is sp.Min:
            return lambda point: min(function(point) for function in functions)
        return None

    return build(expression)


def _heaviside(value: float, at_zero: float) -> float:
    if value == 0:
        return at_zero
    return 1.0 if value > 0 else 0.0


def _evaluate(function: FloatFunction, point: Point) -> float | None:
    """The real value at ``point``, or None where it is undefined, infinite or not real."""
    try:
        value = function(point)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None  # math domain errors and overflow: this point says nothing
    if isinstance(value, complex) or not math.isfinite(value):
        return None
    return float(value)


def _close(first: float, second: float, tolerance: float) -> bool:
    # Relative tolerance, with a tiny absolute floor so values at (or near) zero can match.
    return abs(first - second) <= tolerance * max(abs(first), abs(second), 1e-3)


class _Dropped:
    """Marker for a point whose exact value has no accurate digits (or took too long): no evidence."""


DROPPED = _Dropped()
Exact = float | None | _Dropped  # a real value (±inf: finite but beyond floats), undefined, or dropped


@dataclass
class _Reference:
    """An expression that answers are compared with (the key or a listed wrong answer)."""

    expression: Any
    function: FloatFunction | None


@dataclass
class _Listed:
    """A listed wrong answer of a spec, prepared: its expression, or why it could not be read."""

    text: str
    feedback: str
    reference: _Reference | None
    error: str | None


@dataclass
class _Prepared:
    """A spec made ready for checking; cached per spec inside the worker."""

    variables: dict[str, str]  # declared name -> assumption, as the author wrote them
    declared: dict[str, str]  # canonical name -> declared name
    tolerance: float = SYMBOLIC_TOLERANCE
    symbols: list[Any] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    domains: list[tuple[float, float] | None] = field(default_factory=list)
    key: _Reference | None = None
    key_error: str | None = None
    listed: list[_Listed] = field(default_factory=list)


class _Round:
    """The sample points of one check, and everything computed at them (values are cached per
    expression, exact values per expression and point)."""

    def __init__(self, prepared: _Prepared, sp: Any, exact_budget: float, point_budget: float) -> None:
        self.prepared = prepared
        self.sp = sp
        self.point_budget = point_budget
        self.points = sample_points(prepared.assumptions, prepared.domains, random.Random())
        self._exact_points: dict[int, dict[Any, Any]] = {}
        self._values: dict[int, list[float | None]] = {}
        self._exact: dict[tuple[int, int], Exact] = {}
        self.exact_deadline = time.monotonic() + exact_budget
        self.overflowed = 0  # points where an exact value was too large even for SymPy's floats
        self.timed_out = 0  # points whose exact value took too long

    def values(self, reference: _Reference) -> list[float | None]:
        found = self._values.get(id(reference))
        if found is None:
            if reference.function is None:
                # Something the fast evaluator does not know: SymPy evaluates each point.
                found = [None if isinstance(value, _Dropped) else value for value in
                         (self.exact(reference, number) for number in range(len(self.points)))]  # fmt: skip
                found = [value if value is None or math.isfinite(value) else None for value in found]
            else:
                found = [_evaluate(reference.function, point) for point in self.points]
            self._values[id(reference)] = found
        return found

    def exact_point(self, number: int) -> dict[Any, Any]:
        if number not in self._exact_points:
            coordinates = zip(self.prepared.symbols, self.points[number], strict=True)
            self._exact_points[number] = {symbol: self.sp.Rational(repr(value)) for symbol, value in coordinates}
        return self._exact_points[number]

    def exact(self, reference: _Reference, number: int) -> Exact:
        """The value at the exact rational point to 30 correct digits (strict: SymPy raises rather
        than return digits it cannot vouch for), bounded in time."""
        # A constant has one value at every point: evaluate it once.
        cache_key = (id(reference), number if reference.expression.free_symbols else -1)
        if cache_key not in self._exact:
            self._exact[cache_key] = self._compute_exact(reference.expression, number)
        return self._exact[cache_key]

    def _compute_exact(self, expression: Any, number: int) -> Exact:
        remaining = self.exact_deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out += 1
            return DROPPED
        sp = self.sp
        point = self.exact_point(number)
        try:
            with _time_budget(min(remaining, self.point_budget)):
                for jump in expression.atoms(sp.sign, sp.Heaviside):  # see Engine._constant
                    jump.args[0].evalf(_EXACT_DIGITS, subs=point, strict=True, maxn=_EXACT_MAX_DIGITS)
                value = expression.evalf(_EXACT_DIGITS, subs=point, strict=True, maxn=_EXACT_MAX_DIGITS)
        except _BudgetExceeded:
            self.timed_out += 1
            return DROPPED
        except OverflowError:
            self.overflowed += 1
            return DROPPED
        except (ArithmeticError, ValueError, TypeError, NotImplementedError, AttributeError):
            # PrecisionExhausted (an ArithmeticError) among them: no digits to trust.
            return DROPPED
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return None
        if not value.is_number:
            return DROPPED
        real, imaginary = value.as_real_imag()
        if not (real.is_Number and imaginary.is_Number):
            return DROPPED
        real_value, imaginary_value = float(real), float(imaginary)
        if math.isnan(real_value):
            return DROPPED
        if abs(imaginary_value) > 1e-20 * max(1.0, abs(real_value)):
            return None  # not a real number here
        return real_value  # ±inf when finite but beyond floating point


class Outcome(Enum):
    """How a comparison of two expressions ended."""

    SAME = "same"
    DIFFERENT = "different"  # at a confirmed point, kept in the comparison
    UNDECIDED = "undecided"  # too few usable points, and simplify could not show them equal
    TOO_LARGE = "too large"  # too few usable points, and values beyond any float
    TOO_COMPLEX = "too complex"  # the exact evaluations ran out of time


@dataclass
class _Comparison:
    """How an answer compared with a reference, and at which point they differed."""

    outcome: Outcome
    point: int | None = None
    answer_value: float = math.nan
    expected_value: float = math.nan


class Engine:
    """Everything the worker does; holds SymPy and the cache of prepared specs."""

    def __init__(self) -> None:
        import sympy  # type: ignore[import-untyped]  # SymPy ships no type information

        self.sp = sympy
        self._specs: OrderedDict[str, _Prepared] = OrderedDict()
        self._budgets(time_budgets(DEFAULT_TIMEOUT))
        self.check_deadline = math.inf

    def _budgets(self, budgets: Mapping[str, Any]) -> None:
        """The soft time budgets (see :func:`quizkit.symbolic.spec.time_budgets`), in seconds."""
        self.simplify_budget = float(budgets["simplify_budget"])
        self.exact_budget = float(budgets["exact_budget"])
        self.point_budget = float(budgets["point_budget"])
        self.check_budget = float(budgets["check_budget"])

    # -- protocol -------------------------------------------------------------------------

    def handle(self, request: Mapping[str, Any]) -> dict[str, Any]:
        self._budgets({**time_budgets(DEFAULT_TIMEOUT), **request})
        self.check_deadline = time.monotonic() + self.check_budget
        operation = request.get("op")
        if operation == "check":
            return self.check(str(request["answer"]), request["spec"])
        if operation == "key_problems":
            return {"problems": self.key_problems(request["spec"])}
        raise ValueError(f"unknown operation {operation!r}")

    def warm_up(self) -> None:
        """Exercise every code path once so the first real check is as fast as later ones."""
        spec = {"key": "lam*sign(w)", "variables": [["w", "real"], ["lam", "positive"]],
                "wrong_answers": [["2*lam*w", "-"]], "tolerance": SYMBOLIC_TOLERANCE, "domain": []}  # fmt: skip
        for answer in ("λ|w|/w", "2λw", "λ|w|", "w +", "λ sign(w)(cosh(4)^2 - sinh(4)^2)"):
            self.check(answer, spec)
        # simplify() loads much of SymPy on first use; do that now rather than inside a check.
        w = self.sp.Symbol("w", real=True)
        self._simplifies_to_zero(self.sp.sin(w) ** 2 + self.sp.cos(w) ** 2 - self.sp.sqrt(w**2) / self.sp.Abs(w))

    # -- preparing specs ------------------------------------------------------------------

    def prepared(self, spec: Mapping[str, Any]) -> _Prepared:
        cache_key = json.dumps(spec, sort_keys=True)
        found = self._specs.get(cache_key)
        if found is None:
            found = self._prepare(spec)
            self._specs[cache_key] = found
            if len(self._specs) > _SPEC_CACHE_SIZE:
                self._specs.popitem(last=False)
        else:
            self._specs.move_to_end(cache_key)
        return found

    def _prepare(self, spec: Mapping[str, Any]) -> _Prepared:
        # The parent has checked the declarations (spec_problems) before sending the spec.
        variables = {str(name): str(assumption) for name, assumption in spec["variables"]}
        domain = {str(name): (float(low), float(high)) for name, low, high in spec["domain"]}
        declared = {mathparse.canonical_name(name): name for name in variables}
        prepared = _Prepared(variables, declared, float(spec["tolerance"]))
        prepared.symbols = list(mathparse.symbols(variables).values())
        prepared.assumptions = [variables[name] for name in declared.values()]
        prepared.domains = [domain.get(name) for name in declared.values()]
        try:
            key = mathparse.parse(str(spec["key"]), variables)
        except ParseError as error:
            prepared.key_error = error.message
            return prepared
        prepared.key = self._reference(key, prepared)
        for text, feedback in spec["wrong_answers"]:
            try:
                wrong = mathparse.parse(str(text), variables)
            except ParseError as error:
                prepared.listed.append(_Listed(str(text), str(feedback), None, error.message))
                continue
            prepared.listed.append(_Listed(str(text), str(feedback), self._reference(wrong, prepared), None))
        return prepared

    def _reference(self, expression: Any, prepared: _Prepared) -> _Reference:
        index = {symbol: position for position, symbol in enumerate(prepared.symbols)}
        return _Reference(expression, _compile(expression, self.sp, index, self._constant))

    def _constant(self, expression: Any) -> float | None:
        """A constant's value, from 30 exact digits (time-bounded); inf when it overflows, None
        when it has no usable value."""
        budget = min(self.point_budget, self.check_deadline - time.monotonic())
        if budget <= 0.01:
            return None
        try:
            with _time_budget(budget):
                # evalf decides sign(x) and Heaviside(x) from a few digits of x, even with
                # strict=True: sign(sin(π/7)·sin(2π/7)·sin(3π/7) − √7/8) comes out 1 although x is
                # exactly 0. Their arguments must show accurate digits themselves first.
                for jump in expression.atoms(self.sp.sign, self.sp.Heaviside):
                    jump.args[0].evalf(_EXACT_DIGITS, strict=True, maxn=_EXACT_MAX_DIGITS)
                value = expression.evalf(_EXACT_DIGITS, strict=True, maxn=_EXACT_MAX_DIGITS)
        except OverflowError:
            return math.inf
        except (_BudgetExceeded, ArithmeticError, ValueError, TypeError, NotImplementedError, AttributeError):
            return None
        if not value.is_Number or value.has(self.sp.zoo, self.sp.nan, self.sp.oo, -self.sp.oo):
            return None
        return float(value)

    def _round(self, prepared: _Prepared) -> _Round:
        return _Round(prepared, self.sp, self.exact_budget, self.point_budget)

    # -- comparing ------------------------------------------------------------------------

    def compare(self, round_: _Round, answer: _Reference, reference: _Reference, *, prove: bool = True) -> _Comparison:
        """Whether ``answer`` equals ``reference`` under the declared assumptions.

        Floating point decides where both agree; wherever it sees a difference (or cannot
        evaluate), exact evaluation decides, and only a point where both exact values are known
        can prove a difference: a confirmed difference is a true counterexample. With too few
        usable points, ``simplify`` may prove equality (``prove``; skipped for the secondary
        comparisons that only choose feedback).
        """
        tolerance = round_.prepared.tolerance
        values, expected_values = round_.values(answer), round_.values(reference)
        agreeing = 0
        undefined: list[int] = []
        for number, (value, expected) in enumerate(zip(values, expected_values, strict=True)):
            if value is not None and expected is not None and _close(value, expected, tolerance):
                agreeing += 1
                continue
            if not prove:
                # Only choosing feedback: floating point is evidence enough, and a difference far
                # beyond rounding needs no exact proof; points it cannot evaluate are skipped.
                if value is not None and expected is not None and not _close(value, expected, _CLEARLY_APART):
                    return _Comparison(Outcome.DIFFERENT, number, value, expected)
                continue
            exact_expected = round_.exact(reference, number)
            if exact_expected is None or isinstance(exact_expected, _Dropped) or math.isinf(exact_expected):
                continue  # the reference is undefined or unknown here: this point says nothing
            exact_value = round_.exact(answer, number)
            if isinstance(exact_value, _Dropped):
                continue
            if exact_value is None:
                undefined.append(number)
                if len(undefined) > _MAX_UNDEFINED_POINTS:
                    return self._undefined_at(undefined[0], round_, reference)
                continue
            if math.isfinite(exact_value) and _close(exact_value, exact_expected, tolerance):
                agreeing += 1
                continue
            return _Comparison(Outcome.DIFFERENT, number, exact_value, exact_expected)
        if agreeing >= _MIN_AGREEING_POINTS:
            return _Comparison(Outcome.SAME)
        if round_.overflowed:
            return _Comparison(Outcome.TOO_LARGE)  # not enough evidence, and values beyond any float
        # Too few usable points to judge numerically: SymPy decides, within a time budget.
        if prove and self._simplifies_to_zero(answer.expression - reference.expression):
            return _Comparison(Outcome.SAME)
        if round_.timed_out and not undefined:
            return _Comparison(Outcome.TOO_COMPLEX)
        if undefined:
            return self._undefined_at(undefined[0], round_, reference)
        return _Comparison(Outcome.UNDECIDED)

    @staticmethod
    def _undefined_at(number: int, round_: _Round, reference: _Reference) -> _Comparison:
        expected = round_.exact(reference, number)
        assert isinstance(expected, float)  # only points where the reference is known are listed
        return _Comparison(Outcome.DIFFERENT, number, math.nan, expected)

    def _simplifies_to_zero(self, difference: Any) -> bool:
        # Within the simplify budget and what is left of the whole check's time.
        budget = min(self.simplify_budget, self.check_deadline - time.monotonic())
        if budget < 0.05:
            return False
        try:
            with _time_budget(budget):
                return bool(self.sp.simplify(difference) == 0)
        except _BudgetExceeded:
            return False  # could not decide in time; the caller treats that as "not shown equal"
        except (ArithmeticError, ValueError, TypeError, NotImplementedError):
            return False  # OverflowError from mpmath among them: not shown equal

    def _antiderivative_of_key(self, round_: _Round, answer: _Reference) -> str | None:
        """The variable whose derivative of ``answer`` is the key: the learner gave the function
        (the penalty) rather than its derivative. None when no variable does."""
        key = round_.prepared.key
        assert key is not None
        for symbol in round_.prepared.symbols:
            if symbol not in answer.expression.free_symbols:
                continue
            try:
                with _time_budget(self.point_budget):
                    differentiated = self.sp.diff(answer.expression, symbol)
            except (_BudgetExceeded, ArithmeticError, ValueError, TypeError, NotImplementedError):
                continue
            # Outside the budget above: compiling has time budgets of its own, and they do not nest.
            derivative = self._reference(differentiated, round_.prepared)
            if derivative.expression == 0:
                continue
            # d/dw |w| brings DiracDelta(w), which is 0 wherever w is sampled (never at 0).
            if derivative.expression.has(self.sp.DiracDelta):
                without_delta = derivative.expression.replace(self.sp.DiracDelta, lambda *args: self.sp.S.Zero)
                derivative = self._reference(without_delta, round_.prepared)
            if self.compare(round_, derivative, key, prove=False).outcome is Outcome.SAME:
                return mathparse.display_name(symbol.name)
        return None

    # -- operations -----------------------------------------------------------------------

    def check(self, text: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        prepared = self.prepared(spec)
        if prepared.key is None:
            reason = prepared.key_error or "unknown problem"
            return result_payload(
                Status.INVALID, [f"This question's answer key is broken ({reason}); please tell the instructor."]
            )
        try:
            answer = self._reference(mathparse.parse(text, prepared.variables), prepared)
        except ParseError as error:
            return result_payload(Status.INVALID, [error.message], span=error.span)
        interpreted = mathparse.reading(text, prepared.variables)
        round_ = self._round(prepared)
        comparison = self.compare(round_, answer, prepared.key)
        if comparison.outcome is Outcome.SAME:
            return result_payload(Status.CORRECT, [], interpreted)
        if comparison.outcome is Outcome.TOO_LARGE:
            return result_payload(Status.INVALID, [TOO_LARGE], interpreted)
        if comparison.outcome is Outcome.TOO_COMPLEX:
            return result_payload(Status.INVALID, [TOO_COMPLEX], interpreted)
        if comparison.outcome is Outcome.UNDECIDED:
            message = (
                "Could not decide: your expression or the expected one is undefined at most test points. "
                "Check where yours is defined, and simplify it."
            )
            return result_payload(Status.INVALID, [message], interpreted)
        assert comparison.point is not None
        counterexample = self._counterexample(round_, comparison)
        for listed in prepared.listed:
            reference = listed.reference
            if reference is not None and self.compare(round_, answer, reference, prove=False).outcome is Outcome.SAME:
                return result_payload(Status.INCORRECT, [listed.feedback], interpreted, counterexample)
        variable = self._antiderivative_of_key(round_, answer)
        if variable is not None:
            line = (
                f"This looks like the penalty itself, not its derivative: differentiate your expression "
                f"with respect to {variable}."
            )
            return result_payload(Status.INCORRECT, [line], interpreted, counterexample)
        used = answer.expression.free_symbols | prepared.key.expression.free_symbols
        line = _difference_line(round_, comparison, used)
        return result_payload(Status.INCORRECT, [line], interpreted, counterexample)

    def _counterexample(self, round_: _Round, comparison: _Comparison) -> dict[str, float]:
        assert comparison.point is not None
        point = round_.points[comparison.point]
        result = {name: value for name, value in zip(round_.prepared.declared.values(), point, strict=True)}
        result["answer"] = comparison.answer_value
        result["expected"] = comparison.expected_value
        return result

    def key_problems(self, spec: Mapping[str, Any]) -> list[str]:
        prepared = self.prepared(spec)
        problems: list[str] = []
        key = prepared.key
        if key is None:
            problems.append(f"the answer key {spec['key']!r} cannot be read: {prepared.key_error}")
            return problems
        round_ = self._round(prepared)
        if sum(value is not None for value in round_.values(key)) < _MIN_AGREEING_POINTS:
            problems.append(
                f"the answer key {spec['key']!r} is undefined or not real at most sample points; "
                "check the variables' assumptions or give a domain"
            )
        for listed in prepared.listed:
            if listed.error is not None:
                problems.append(f"the wrong answer {listed.text!r} cannot be read: {listed.error}")
            elif listed.reference is not None and self.compare(round_, listed.reference, key).outcome is Outcome.SAME:
                problems.append(f"the wrong answer {listed.text!r} is equivalent to the answer key")
        return problems


def _format_pair(first: float, second: float) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (at least 6) that tell them apart."""
    for digits in range(6, 18):
        shown = (_format_number(first, digits), _format_number(second, digits))
        if shown[0] != shown[1]:
            return shown
    return shown


def _format_number(value: float, digits: int) -> str:
    if math.isnan(value):
        return "undefined"
    if math.isinf(value):
        return "a number too large to show" if value > 0 else "a negative number too large to show"
    return format(value + 0.0, f".{digits}g")  # + 0.0 turns -0.0 into 0.0


def _format_coordinate(value: float) -> str:
    """``0.3``, or ``≈ 0.00345679`` for an unrounded sample point (6 significant digits)."""
    text = repr(value + 0.0)
    text = text[:-2] if text.endswith(".0") else text
    short = format(value + 0.0, ".6g")
    return f"= {text}" if len(text) <= 8 else f"≈ {short}"


def _difference_line(round_: _Round, comparison: _Comparison, used: set[Any]) -> str:
    assert comparison.point is not None
    point = round_.points[comparison.point]
    where = ", ".join(
        f"{mathparse.display_name(symbol.name)} {_format_coordinate(value)}"
        for symbol, value in zip(round_.prepared.symbols, point, strict=True)
        if symbol in used
    )
    answer_text, expected_text = _format_pair(comparison.answer_value, comparison.expected_value)
    yours = "cannot be evaluated to a real number" if math.isnan(comparison.answer_value) else f"gives {answer_text}"
    if not where:
        return f"Your expression {yours}; the expected one gives {expected_text}."
    return f"At {where} your expression {yours}; the expected one gives {expected_text}."
