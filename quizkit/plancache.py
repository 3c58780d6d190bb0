"""A cache of grading plans: the drawn inputs and the reference's results, kept between commands.

Planning an exercise draws its random cases and runs the reference on every call; a submission
would otherwise repeat that (and numpy.random's import) each time. An entry is keyed by a digest of
everything the plan follows from: the exercise as loaded (its ``repr``, which holds every case,
generator and seed), the reference's bytes and those of the code it preloads, the grade-time seed
and quizkit's version. It is JSON (arrays as dtype, shape and base64 bytes; never pickle) under
``<quizkit home>/cache/plans/``, authenticated like the lesson cache (:mod:`quizkit.lessoncache`):
an entry whose MAC or form is wrong is ignored and the plan computed and kept again.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from quizkit import lessoncache
from quizkit.rules import REAL_DTYPE_KINDS

if TYPE_CHECKING:
    from quizkit.lesson import Exercise
    from quizkit.sandbox import Source

FORMAT = 1
# A plan as plain data (quizkit.exercises builds its Call and CaseGroup objects from these):
PlainCall = tuple[str, str, tuple[object, ...], bool]  # name, group, arguments, hidden
PlainGroup = tuple[str, bool, int, int, int, float, bool]  # name, is_random, line, start, count, weight, hidden


def digest(exercise: Exercise, reference: bytes, preload: tuple[Source, ...], grade_seed: int | None) -> str:
    import quizkit

    parts = hashlib.sha256()
    for part in (f"{FORMAT}", quizkit.__version__, repr(exercise), repr(grade_seed)):
        parts.update(part.encode("utf-8", errors="surrogatepass") + b"\0")
    parts.update(hashlib.sha256(reference).digest())
    for source in preload:
        parts.update(source.name.encode("utf-8", errors="surrogatepass") + b"\0" + hashlib.sha256(source.data).digest())
    return parts.hexdigest()


def load(key: str) -> tuple[tuple[PlainCall, ...], tuple[PlainGroup, ...], tuple[np.ndarray, ...]] | None:
    """(calls, groups, expected) kept for ``key``, or None."""
    entry = lessoncache.entry("plans", key)
    plain = None if entry is None else lessoncache.read_authentic(*entry)
    if plain is None:
        return None
    try:
        calls: tuple[PlainCall, ...] = tuple(
            (str(name), str(group), tuple(_decode(arg) for arg in args), bool(hidden))
            for name, group, args, hidden in plain["calls"]
        )
        groups: tuple[PlainGroup, ...] = tuple(
            (str(n), bool(r), int(li), int(s), int(c), float(w), bool(h)) for n, r, li, s, c, w, h in plain["groups"]
        )
        expected = tuple(_decode(value) for value in plain["expected"])
    except (KeyError, TypeError, ValueError):
        return None
    arrays = tuple(value for value in expected if isinstance(value, np.ndarray))
    if len(arrays) != len(calls):
        return None
    return calls, groups, arrays


def store(key: str, calls: Sequence[PlainCall], groups: Sequence[PlainGroup], expected: tuple[np.ndarray, ...]) -> None:
    entry = lessoncache.entry("plans", key)
    if entry is None:
        return
    plain = {
        "calls": [[name, group, [_encode(arg) for arg in args], hidden] for name, group, args, hidden in calls],
        "groups": [list(group) for group in groups],
        "expected": [_encode(value) for value in expected],
    }
    lessoncache.write_authentic(*entry, plain)


def _encode(value: object) -> Any:
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value).tobytes()
        return {"dtype": value.dtype.str, "shape": list(value.shape), "data": base64.b64encode(data).decode()}
    if type(value) is float:
        return {"float": value.hex()}
    raise TypeError(f"a plan argument of type {type(value).__name__} is not kept")


def _decode(plain: Any) -> object:
    if "float" in plain:
        return float.fromhex(plain["float"])
    dtype = np.dtype(plain["dtype"])
    if dtype.kind not in REAL_DTYPE_KINDS:
        raise ValueError("not a numeric array")
    data = base64.b64decode(plain["data"], validate=True)
    return np.frombuffer(data, dtype=dtype).reshape([int(n) for n in plain["shape"]]).copy()
