"""Formulas written in lesson files, computed as numbers: never ``eval``, never SymPy.

A :class:`Formula` is read once with the answer reader's allow-list (:func:`quizkit.mathparse.expression_tree`:
numbers, declared names, ``+ - * / ^``, ``|x|`` and the fixed math functions), then computed by
walking that tree. The same tree serves three uses:

- parameter expressions of a question variant (numeric keys, ``{...}`` in templates): scalars,
  exact fractions where the arithmetic allows, so ``w - alpha*lam`` with w = 0.4 is exactly 0.32;
- plot curves: plain Python floats, one point at a time, so drawing needs no numpy;
- typical-mistake formulas of an exercise: numpy arrays, elementwise.

numpy is imported only by :meth:`Formula.array`, which only the grading process calls.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import Any

from quizkit.mathparse import ParseError, exact_literal, expression_tree

__all__ = ["Formula", "FormulaError", "ParseError"]

# Scalar results beyond this are not numbers a lesson means (and Fraction powers could grow without end).
_MAX_MAGNITUDE = 1e300


class FormulaError(ValueError):
    """A formula could not be computed for the values given (division by zero, log of -1, ...)."""


def _sign(x: Any) -> Any:
    return (x > 0) - (x < 0)


def _heaviside(x: Any) -> Any:
    return Fraction(1, 2) if x == 0 else (1 if x > 0 else 0)


def _real(function: Callable[[float], float]) -> Callable[[Any], float]:
    def compute(x: Any) -> float:
        try:
            return function(float(x))
        except (ValueError, OverflowError) as exc:
            raise FormulaError(f"{function.__name__}({float(x):g}) is not a real number") from exc

    return compute


_SCALAR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sign": _sign,
    "Abs": abs,
    "exp": _real(math.exp),
    "log": _real(math.log),
    "sqrt": _real(math.sqrt),
    "sin": _real(math.sin),
    "cos": _real(math.cos),
    "tan": _real(math.tan),
    "sinh": _real(math.sinh),
    "cosh": _real(math.cosh),
    "tanh": _real(math.tanh),
    "asin": _real(math.asin),
    "acos": _real(math.acos),
    "atan": _real(math.atan),
    "Heaviside": _heaviside,
    "Max": max,
    "Min": min,
}
_CONSTANT_VALUES = {"pi": math.pi, "e": math.e, "E": math.e}
_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _numpy_functions() -> dict[str, Callable[..., Any]]:
    import functools

    import numpy as np

    return {
        "sign": np.sign,
        "Abs": np.abs,
        "exp": np.exp,
        "log": np.log,
        "sqrt": np.sqrt,
        "sin": np.sin,
        "cos": np.cos,
        "tan": np.tan,
        "sinh": np.sinh,
        "cosh": np.cosh,
        "tanh": np.tanh,
        "asin": np.arcsin,
        "acos": np.arccos,
        "atan": np.arctan,
        "Heaviside": lambda x: np.heaviside(x, 0.5),
        "Max": lambda *xs: functools.reduce(np.maximum, xs),
        "Min": lambda *xs: functools.reduce(np.minimum, xs),
    }


class Formula:
    """An expression over ``names``, read once, computed many times. Raises ParseError when read."""

    def __init__(self, text: str, names: Iterable[str]) -> None:
        self.text = text
        self.names = tuple(names)
        self._source, self._tree = _read(text, self.names)

    def names_used(self) -> set[str]:
        """The declared names the formula mentions."""
        return {node.id for node in ast.walk(self._tree) if isinstance(node, ast.Name) and node.id in self.names}

    def value(self, values: Mapping[str, Any]) -> Fraction | float:
        """The scalar value for ``values`` (numbers; Fractions stay exact). Raises FormulaError."""
        try:
            result = self._scalar(self._tree, values)
        except ZeroDivisionError:
            raise FormulaError(f"{self.text} divides by zero") from None
        except OverflowError:
            raise FormulaError(f"{self.text} is too large") from None
        if abs(result) > _MAX_MAGNITUDE:
            raise FormulaError(f"{self.text} is too large")
        return result

    def number(self, values: Mapping[str, Any]) -> float:
        """:meth:`value` as a float."""
        return float(self.value(values))

    def array(self, values: Mapping[str, Any]) -> Any:
        """The elementwise value for numpy arrays (nan/inf where the math says so, no warnings)."""
        import numpy as np

        functions = _numpy_functions()
        with np.errstate(all="ignore"):
            return np.asarray(self._vector(self._tree, values, functions, np), dtype=np.float64)

    # -- walkers: the tree holds only what expression_tree allows -----------------------------

    def _scalar(self, node: ast.expr, values: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            exact = exact_literal(ast.get_source_segment(self._source, node) or repr(node.value))
            if exact is None:
                raise FormulaError(f"a number in {self.text} is too large")
            return exact
        if isinstance(node, ast.Name):
            if node.id in values:
                return _exact(values[node.id])
            return _CONSTANT_VALUES[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self._scalar(node.operand, values)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = self._scalar(node.left, values), self._scalar(node.right, values)
            if isinstance(node.op, ast.Pow):
                return _power(left, right, self.text)
            return _OPERATORS[type(node.op)](left, right)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        arguments = [self._scalar(argument, values) for argument in node.args]
        return _SCALAR_FUNCTIONS[node.func.id](*arguments)

    def _vector(
        self, node: ast.expr, values: Mapping[str, Any], functions: dict[str, Callable[..., Any]], np: Any
    ) -> Any:
        if isinstance(node, ast.Constant):
            return float(node.value)  # type: ignore[arg-type]  # the parser admits only numeric constants
        if isinstance(node, ast.Name):
            if node.id in values:
                return np.asarray(values[node.id], dtype=np.float64)
            return _CONSTANT_VALUES[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self._vector(node.operand, values, functions, np)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left = self._vector(node.left, values, functions, np)
            right = self._vector(node.right, values, functions, np)
            if isinstance(node.op, ast.Pow):
                return np.power(np.asarray(left, dtype=np.float64), right)
            return _OPERATORS[type(node.op)](np.asarray(left, dtype=np.float64), right)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        arguments = [self._vector(argument, values, functions, np) for argument in node.args]
        return functions[node.func.id](*arguments)


@functools.lru_cache(maxsize=512)
def _read(text: str, names: tuple[str, ...]) -> tuple[str, ast.expr]:
    """The checked tree of ``text``; memoised, since a lesson repeats its templates ({0.1*lam}) and
    plots and mistakes read the same formulas again (the tree is never modified)."""
    return expression_tree(text, names)


def _exact(value: Any) -> Any:
    if isinstance(value, (Fraction, int)):
        return value
    number = float(value)
    # A parameter written 0.3 in YAML is exactly 3/10 here, so keys computed from it stay exact.
    return Fraction(repr(number)) if math.isfinite(number) else number


def _power(base: Any, exponent: Any, text: str) -> Any:
    if isinstance(exponent, Fraction) and exponent.denominator == 1 and isinstance(base, Fraction):
        if abs(exponent) > 1000:
            raise FormulaError(f"an exponent in {text} is too large")
        if base == 0 and exponent < 0:
            raise ZeroDivisionError
        return base ** int(exponent)
    if base < 0:
        raise FormulaError(f"{text}: a negative number to a fractional power is not real")
    return float(base) ** float(exponent)


def format_number(value: Any, spec: str = "") -> str:
    """How a computed value is written into a prompt: ``spec`` as in Python's format (``.2f``), or
    by default up to 12 significant digits without trailing zeros (0.32, not 0.32000000000000006)
    and a typographic minus (−0.2)."""
    number = float(value)
    if spec:
        return format(number, spec)
    text = f"{number:.12g}"
    # The typographic minus, as the lessons write it (answers accept both).
    return "0" if text == "-0" else text.replace("-", "\u2212", 1) if text.startswith("-") else text
