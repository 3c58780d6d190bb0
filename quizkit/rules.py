"""Rules about lesson values that more than one layer applies, each stated once.

The lesson loader applies them with the position of the value in the lesson file; the symbolic
checker applies the same functions to a spec built in code. Nothing here imports more than the
standard library, so every layer can use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

# The longest answer a learner may type, in characters (the reader refuses longer ones unread).
MAX_ANSWER_LENGTH = 500

# An entry that should be exactly 0.0 but is non-zero and at most this large is called "tiny", both
# in the judge's message and in the mistake hints.
TINY = 1e-6

# A symbolic question's relative tolerance when its lesson gives none, and the open interval a
# tolerance must lie in (a relative tolerance of 1 or more accepts anything of the right sign).
SYMBOLIC_TOLERANCE = 1e-9
SYMBOLIC_TOLERANCE_BOUNDS = (0.0, 1.0)

# numpy dtype kinds that hold real numbers (bool, signed and unsigned int, float): what a result
# must be to be compared with an expected array.
REAL_DTYPE_KINDS = "biuf"
# The real kinds that cannot hold fractions: a result of one of these has rounded them away.
INTEGER_DTYPE_KINDS = "biu"


def tiny_where_zero(got: Any, expected: Any) -> Any:
    """Where an entry that should be exactly 0.0 is non-zero but at most :data:`TINY` (numpy arrays
    of the same shape in, a boolean array out; works by operators, so numpy is not imported here)."""
    return (expected == 0) & (got != 0) & (abs(got) <= TINY)


def answer_length_problem(text: str) -> str | None:
    """Why ``text`` is too long to be read as an answer to any question, or None."""
    if len(text) > MAX_ANSWER_LENGTH:
        return f"The answer is too long ({len(text)} characters; at most {MAX_ANSWER_LENGTH} are accepted)."
    return None


def assumption_sign(assumption: str) -> int:
    """The side of zero an assumption word keeps a variable on: 1 (positive, nonnegative), -1
    (negative, nonpositive) or 0 (either side). The words themselves are :data:`quizkit.mathparse.ASSUMPTIONS`."""
    if assumption in ("positive", "nonnegative"):
        return 1
    if assumption in ("negative", "nonpositive"):
        return -1
    return 0


def symbolic_tolerance_problem(tolerance: object) -> str | None:
    """Why ``tolerance`` cannot be a symbolic question's relative tolerance, or None if it can."""
    low, high = SYMBOLIC_TOLERANCE_BOUNDS
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not low < tolerance < high:
        return f"tolerance must be a number between {low:g} and {high:g} (exclusive), not {tolerance!r}"
    return None


def range_problem(bounds: Sequence[float], *, strict: bool = True) -> str | None:
    """What ``bounds`` should be when it is not two finite numbers with low < high (low <= high
    when not ``strict``), or None: plot and sweep ranges, symbolic domains, numeric key bounds.
    The answer completes "a range is ...", "the domain of 'w' is ..."."""
    order = "low < high" if strict else "low <= high"
    if len(bounds) != 2:
        return f"[low, high] with {order}, not {len(bounds)} number(s)"
    low, high = (float(bound) for bound in bounds)
    if not (math.isfinite(low) and math.isfinite(high)) or not (low < high if strict else low <= high):
        return f"[low, high]: two finite numbers with {order}"
    return None


def domain_name_problem(name: str, variables: Mapping[str, str]) -> str | None:
    """Why a ``domain`` entry for ``name`` is not allowed (it is not a declared variable), or None."""
    if name not in variables:
        return f"domain names {name!r}, which is not a declared variable"
    return None


def domain_bounds_problem(name: str, bounds: Sequence[float], assumption: str) -> str | None:
    """Why ``bounds`` cannot be the sampling range of variable ``name`` with ``assumption``, or None."""
    problem = range_problem(bounds)
    if problem is not None:
        return f"the domain of {name!r} is {problem}"
    low, high = (float(bound) for bound in bounds)
    sign = assumption_sign(assumption)
    if sign > 0 and low < 0:
        return f"the domain of {name!r} ({low:g}, {high:g}) goes below 0, but {name!r} is {assumption}"
    if sign < 0 and high > 0:
        return f"the domain of {name!r} ({low:g}, {high:g}) goes above 0, but {name!r} is {assumption}"
    if assumption == "integer" and math.floor(high) < math.ceil(low):
        return f"the domain of {name!r} ({low:g}, {high:g}) contains no integer"
    return None
