"""Checking symbolic answers against a SymPy answer key, with a hard time limit.

The parent process never imports SymPy. All SymPy work happens in a persistent worker process
that speaks JSON lines on stdin/stdout; the parent kills and restarts it when a check overruns
its time limit. Only plain strings and numbers cross the process boundary.

- :mod:`.spec`: what a question expects (:class:`SymbolicSpec`), the verdict
  (:class:`SymbolicResult`), the checks that need no SymPy, and the wire form of both;
- :mod:`.client`: the parent side, :class:`SymbolicChecker` and its worker processes;
- :mod:`.worker`: the child process's request loop;
- :mod:`.engine`: the SymPy work inside it (parse, evaluate, compare, explain);
- :mod:`.sampling`: the sample points, drawn afresh for every check.

Equivalence under the declared assumptions combines a numeric check with SymPy. Both expressions
are evaluated at 48 points drawn afresh for every check, so no answer can be tuned to them: a few
with one decimal (readable counterexamples), most unrounded, some near zero (1e-4 to 1e-2 in size)
and some large (1e2 to 1e4), as the variables' assumptions allow; an instructor's ``domain``
replaces these ranges. Where floating point sees a difference, the point is re-evaluated exactly
(rational point, 30 digits, ``evalf(strict=True)``, time-bounded): a point without accurate digits
is dropped rather than used, so a confirmed difference is a true counterexample. Agreement at
every usable point counts as equal: ``simplify`` often cannot finish such proofs (it leaves
``λ·sign(w) - λ·w/|w|`` as a Piecewise). ``sympy.simplify(a - b) == 0`` decides, within a time
budget, when too few points are usable because the expressions are not real there.

An answer that is wrong but whose derivative is the key (the penalty instead of its gradient)
gets feedback saying so, after the question's own listed wrong answers.
"""

from __future__ import annotations

from typing import Any

from quizkit.symbolic.client import SymbolicChecker, SymbolicWorkerError, check_answer
from quizkit.symbolic.sampling import sample_points
from quizkit.symbolic.spec import FrozenMap, SymbolicResult, SymbolicSpec, spec_problems

__all__ = [
    "FrozenMap",
    "SymbolicChecker",
    "SymbolicResult",
    "SymbolicSpec",
    "SymbolicWorkerError",
    "WrongAnswer",  # provided by the module's __getattr__
    "check_answer",
    "sample_points",
    "spec_problems",
]


def __getattr__(name: str) -> Any:
    # WrongAnswer, a known wrong answer (SymPy syntax) and the feedback for anything equivalent to
    # it, is the lesson model's ExpressionWrong, so a question's wrong answers pass straight
    # through. It is looked up on first use: the worker process imports this package and must not
    # pay for loading the lesson model (YAML, schema) before its first answer.
    if name == "WrongAnswer":
        from quizkit.lesson import ExpressionWrong

        return ExpressionWrong
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
