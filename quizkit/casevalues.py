"""What numpy will be asked to build from an exercise's cases, checked at load time without numpy.

Grading turns every case value into an argument (``exercises.to_argument``) and every random block
into draws (``exercises.draw_random_cases``). Whatever numpy would refuse there, or would silently
turn into something else, is refused here instead, with the position of the value in the lesson
file, so that a lesson that loads can always be graded:

* an array whose rows differ in length (ragged), or with more dimensions than numpy allows;
* an array literal whose ``shape`` does not hold exactly its values;
* ``int64`` values that are not whole numbers or lie outside the int64 range (nan, 1e300, 2.5),
  and ``float32`` values too large for float32 (numpy would make them inf);
* random bounds whose span ``high - low`` overflows, that do not fit the dtype, or an int64 range
  with no whole number in it (``[0.5, 0.6]``);
* more numbers than :data:`MAX_NUMBERS_PER_CASE` in one case or one random block (draws ×
  numbers per draw), or than :data:`MAX_NUMBERS_PER_EXERCISE` in one exercise. Every number is
  built by the grader, sent to the learner's process and back, and judged, once per graded file,
  and ``validate`` does that for the reference, the starter and every mutant;
* more calls than one grading job can describe: a graded file runs every call of its exercise in
  one sandbox job, whose header describes every argument of every call (about 20 bytes for a
  float, 50 and more for an array) and must stay under the sandbox's 256 KB header limit.
  :func:`description_bytes` estimates it generously; at most :data:`MAX_JOB_DESCRIPTION_BYTES`.

numpy is never imported: ``quizkit list`` loads every lesson and must stay fast.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from functools import lru_cache

from quizkit.rawyaml import Node
from quizkit.schema import Checker, Record, read_number

MAX_NUMBERS_PER_CASE = 100_000
MAX_NUMBERS_PER_EXERCISE = 1_000_000
MAX_JOB_DESCRIPTION_BYTES = 200_000  # the sandbox takes job headers up to 262,144 bytes
FLOAT32_MAX = 3.4028234663852886e38
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# numpy 1.x allows 32 dimensions and numpy 2.x 64; which one is installed is looked up only when an
# array has more than the smaller number, so ordinary lessons never pay for the lookup.
_NUMPY1_MAX_DIMS = 32


def check_exercise_values(exercise: Record, checker: Checker) -> None:
    """Check every explicit case and random block of one exercise (see the module docstring)."""
    total = 0
    described = 0
    for case in exercise["cases"]:
        numbers, shapes = _check_case(case["args"], checker)
        total += numbers
        described += description_bytes(shapes)
    for group in exercise["random"]:
        numbers, shapes = _check_random_block(group, checker)
        total += numbers
        described += group["count"] * description_bytes(shapes)
    where = exercise.at("random") if exercise.written("random") else exercise.at("cases")
    if described > MAX_JOB_DESCRIPTION_BYTES:
        checker.error(
            where,
            f"this exercise has too many calls to grade in one job (about {described:,} bytes to describe "
            f"their arguments; at most {MAX_JOB_DESCRIPTION_BYTES:,}): use fewer cases or random draws",
        )
    if total > MAX_NUMBERS_PER_EXERCISE:
        checker.error(
            where,
            f"the cases of this exercise pass {total:,} numbers in all; at most {MAX_NUMBERS_PER_EXERCISE:,} per exercise",
        )


def description_bytes(shapes: Sequence[tuple[int, ...] | None]) -> int:
    """A generous estimate of the bytes a sandbox job header takes to describe one call.

    ``shapes`` holds one entry per argument: None for a Python float, the shape of an array.
    """
    return 4 + sum(20 if shape is None else 48 + 8 * len(shape) for shape in shapes)


def _check_case(args: Record, checker: Checker) -> tuple[int, list[tuple[int, ...] | None]]:
    """How many numbers one case passes, and the shape of each argument (None: a Python float)."""
    total = 0
    shapes = []
    for name, value in args.items():
        numbers, shape = _check_value(value, args.at(name), checker)
        total += numbers
        shapes.append(shape)
    if total > MAX_NUMBERS_PER_CASE:
        checker.error(args.node, f"this case passes {total:,} numbers; at most {MAX_NUMBERS_PER_CASE:,} per case")
    return total, shapes


def _check_value(value: object, node: Node, checker: Checker) -> tuple[int, tuple[int, ...] | None]:
    """Problems of one argument as written; returns how many numbers it holds (0 if it has
    problems) and its shape (None for a Python float)."""
    if isinstance(value, Record):  # {array: ..., shape: ..., dtype: ...}
        data = value.at("array")
        shape = _nested_shape(data, checker)
        if shape is None or not _values_fit(data, value["dtype"], checker):
            return 0, ()
        if value["shape"] is not None:
            wanted = tuple(value["shape"])
            shape_node = value.at("shape")
            if not _dimensions_fit(wanted, shape_node, checker):
                return 0, ()
            if math.prod(wanted) != math.prod(shape):
                checker.error(
                    shape_node,
                    f"shape {list(wanted)} holds {math.prod(wanted):,} values, but the array has {math.prod(shape):,}",
                )
                return 0, ()
            shape = wanted
        return (math.prod(shape) if _dimensions_fit(shape, data, checker) else 0), shape
    if isinstance(value, list):  # nested lists: a float64 array
        shape = _nested_shape(node, checker)
        if shape is None or not _dimensions_fit(shape, node, checker):
            return 0, ()
        return math.prod(shape), shape
    return 1, None


def _nested_shape(node: Node, checker: Checker) -> tuple[int, ...] | None:
    """The shape numpy would give nested lists, or None (reported) when they are ragged."""
    if node.kind != "sequence":
        return ()
    assert isinstance(node.value, list)
    if not node.value:
        return (0,)
    first = _nested_shape(node.value[0], checker)
    if first is None:
        return None
    for entry in node.value[1:]:
        shape = _nested_shape(entry, checker)
        if shape is None:
            return None
        if shape != first:
            checker.error(
                entry,
                f"ragged array: this entry is {_describe_shape(shape)}, but the first entry of its list is "
                f"{_describe_shape(first)}; every row must have the same length",
            )
            return None
    return (len(node.value), *first)


def _describe_shape(shape: tuple[int, ...]) -> str:
    if not shape:
        return "a single number"
    if len(shape) == 1:
        return f"a list of {shape[0]}"
    return "an array of shape " + "x".join(map(str, shape))


def _dimensions_fit(shape: Sequence[int], node: Node, checker: Checker) -> bool:
    """At most numpy's number of dimensions, and a size numpy can allocate (zeros ignored)."""
    if len(shape) > _NUMPY1_MAX_DIMS and len(shape) > _numpy_max_dims():
        checker.error(node, f"this array has {len(shape)} dimensions; numpy allows at most {_numpy_max_dims()}")
        return False
    footprint = math.prod(max(size, 1) for size in shape)
    if footprint > MAX_NUMBERS_PER_CASE:
        described = "x".join(map(str, shape))
        checker.error(node, f"shape {described} is too large: at most {MAX_NUMBERS_PER_CASE:,} numbers per array")
        return False
    return True


@lru_cache(maxsize=1)
def _numpy_max_dims() -> int:
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = int(version("numpy").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return _NUMPY1_MAX_DIMS
    return 64 if major >= 2 else _NUMPY1_MAX_DIMS


def _scalars(node: Node) -> Iterator[Node]:
    if node.kind == "sequence":
        assert isinstance(node.value, list)
        for entry in node.value:
            yield from _scalars(entry)
    else:
        yield node


def _values_fit(data: Node, dtype: str, checker: Checker) -> bool:
    """Every value can be stored in ``dtype`` unchanged; the first that cannot is reported."""
    for scalar in _scalars(data):
        value = read_number(scalar)
        if value is None:
            continue  # the schema has reported it
        problem = _dtype_problem(value, dtype)
        if problem:
            checker.error(scalar, f"{scalar.value} {problem}")
            return False
    return True


def _dtype_problem(value: float, dtype: str) -> str:
    if dtype == "int64":
        if not math.isfinite(value):
            return "cannot be stored in an int64 array (use dtype float64 for nan and inf)"
        if not value.is_integer():
            return "is not a whole number, so an int64 array cannot hold it (numpy would cut it to an integer)"
        if not INT64_MIN <= value <= INT64_MAX:
            return "is outside the range of int64"
    if dtype == "float32" and math.isfinite(value) and abs(value) > FLOAT32_MAX:
        return "is too large for float32 (at most about 3.4e38; numpy would make it inf)"
    return ""


def _check_random_block(group: Record, checker: Checker) -> tuple[int, list[tuple[int, ...] | None]]:
    """How many numbers all draws of a block pass, and the shape of each argument of one draw."""
    per_draw = 0
    shapes: list[tuple[int, ...] | None] = []
    args: Record = group["args"]
    for spec in args.values():
        shape = None if spec["shape"] is None else tuple(spec["shape"])
        shapes.append(shape)
        if not _dimensions_fit(shape or (), spec.at("shape"), checker):
            continue
        per_draw += math.prod(shape or ())
        _check_bounds(spec, checker)
    total = per_draw * group["count"]
    if total > MAX_NUMBERS_PER_CASE:
        checker.error(
            group.at("count"),
            f"{group['count']:,} draws of {per_draw:,} numbers are {total:,} numbers; "
            f"at most {MAX_NUMBERS_PER_CASE:,} per random block",
        )
    return total, shapes


def _check_bounds(spec: Record, checker: Checker) -> None:
    low, high, dtype = spec["low"], spec["high"], spec["dtype"]
    if low > high:
        return  # reported by the lesson's own check
    if dtype == "int64":
        if math.ceil(low) > math.floor(high):
            checker.error(
                spec.at("low"),
                f"no whole number lies in [{low:g}, {high:g}], so an int64 generator has nothing to draw",
            )
        elif math.ceil(low) < INT64_MIN or math.floor(high) > INT64_MAX:
            checker.error(
                spec.at("low"), "the bounds of an int64 generator must lie within the int64 range (about ±9.2e18)"
            )
        return
    if not math.isfinite(high - low):
        checker.error(spec.at("high"), f"high - low is too large to compute ({high:g} - {low:g} overflows)")
    elif dtype == "float32" and max(abs(low), abs(high)) > FLOAT32_MAX:
        checker.error(spec.at("low"), "the bounds of a float32 generator must lie within ±3.4e38")
