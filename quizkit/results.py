"""Result types of exercise grading: plain data that judges produce and renderers consume.

Nothing here judges or runs anything. Every type owns its dict form both ways (``to_dict`` /
``from_dict``, symmetric: ``X.from_dict(x.to_dict())`` equals ``x`` field by field), so results can
be stored, sent to another process or machine, and read back without anyone splicing JSON text.
The dict form is plain JSON data: numbers that JSON cannot hold (nan, inf) are written as the
strings ``"nan"``, ``"inf"``, ``"-inf"``, and arrays keep their dtype and shape.

The dict form is complete, hidden cases included; what a learner may see of a result is decided by
the renderers in :mod:`quizkit.report`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from quizkit.model import frozen
from quizkit.sandbox import RunStatus
from quizkit.verdict import Status


class CaseStatus(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not_run"


class GraderStatus(str, Enum):
    """How a file ended when the cause lies with the grader, not with the learner's code."""

    GRADER_ERROR = "grader_error"  # grading this file raised inside quizkit; the batch went on


# How a run ended: the sandbox's statuses, plus the grader's own.
AnyRunStatus = RunStatus | GraderStatus


def run_status_from(value: str) -> AnyRunStatus:
    """The status named ``value`` (a RunStatus or a GraderStatus value); ValueError if unknown."""
    for kind in (RunStatus, GraderStatus):
        try:
            return kind(value)
        except ValueError:
            continue
    raise ValueError(f"unknown run status {value!r}")


# ---------------------------------------------------------------------------------------------
# Values: Python floats and numpy arrays, both ways
# ---------------------------------------------------------------------------------------------


def encode_number(value: float | int | bool) -> float | int | bool | str:
    """A number as JSON can hold it: nan and +/-inf become strings."""
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
    return value


def decode_number(value: object) -> float | int | bool:
    """The inverse of :func:`encode_number`."""
    if isinstance(value, str):
        return float(value)  # "nan", "inf", "-inf"
    if isinstance(value, (bool, int, float)):
        return value
    raise ValueError(f"not a number: {value!r}")


def encode_value(value: object) -> object:
    """An argument or result: None, a Python number, or ``{"dtype", "shape", "data"}`` for an array.

    Complex entries are written as ``[real, imag]`` pairs; ``data`` is the flat list of entries.
    """
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        flat = value.reshape(-1)
        if value.dtype.kind == "c":
            data: list[object] = [[encode_number(float(z.real)), encode_number(float(z.imag))] for z in flat]
        else:
            data = [encode_number(item) for item in flat.tolist()]
        return {"dtype": value.dtype.str, "shape": list(value.shape), "data": data}
    if isinstance(value, (bool, int, float)):
        return encode_number(value)
    if isinstance(value, np.generic):
        return encode_value(np.asarray(value))
    raise TypeError(f"cannot encode a {type(value).__name__}")


def decode_value(data: object) -> object:
    """The inverse of :func:`encode_value`."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        dtype = np.dtype(str(data["dtype"]))
        shape = tuple(int(n) for n in data["shape"])
        entries = data["data"]
        if dtype.kind == "c":
            items: list[object] = [complex(decode_number(re), decode_number(im)) for re, im in entries]
        else:
            items = [decode_number(item) for item in entries]
        return np.array(items, dtype=dtype).reshape(shape)
    return decode_number(data)


def _array(data: object) -> np.ndarray | None:
    value = decode_value(data)
    return None if value is None else np.asarray(value)


# ---------------------------------------------------------------------------------------------
# The results
# ---------------------------------------------------------------------------------------------


@frozen(eq=True)
class Difference:
    """One entry where the learner's result differs from the expected one."""

    index: tuple[int, ...]  # () for a scalar result
    expected: float
    got: float

    @property
    def where(self) -> str:
        """``[1, 2]`` for an array entry, ``value`` for a scalar."""
        return "[" + ", ".join(str(i) for i in self.index) + "]" if self.index else "value"

    def to_dict(self) -> dict[str, Any]:
        return {"index": list(self.index), "expected": encode_number(self.expected), "got": encode_number(self.got)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Difference:
        return cls(
            tuple(int(i) for i in data["index"]),
            float(decode_number(data["expected"])),
            float(decode_number(data["got"])),
        )


@frozen
class CaseResult:
    """How one call was judged, with the data needed to explain a failure."""

    name: str
    group: str
    status: CaseStatus
    problems: tuple[str, ...]  # why it failed (or was not run), most important first; () if passed
    inputs: tuple[tuple[str, object], ...]  # (parameter, argument)
    expected: np.ndarray | None
    got: np.ndarray | None
    return_type: str  # what the function returned ("ndarray", "float", "NoneType", "list", ...)
    error: str | None  # the exception the call raised, with traceback lines from the learner's file
    inputs_modified: tuple[bool, ...]
    differences: tuple[Difference, ...] = ()  # the first few differing entries
    differing_count: int = 0  # how many entries differ in all
    seconds: float = 0.0
    hidden: bool = False  # a hidden case: feedback says passed or failed, nothing more

    @property
    def passed(self) -> bool:
        return self.status is CaseStatus.PASSED

    @property
    def message(self) -> str:
        return "; ".join(self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "status": self.status.value,
            "problems": list(self.problems),
            "inputs": [[name, encode_value(value)] for name, value in self.inputs],
            "expected": encode_value(self.expected),
            "got": encode_value(self.got),
            "return_type": self.return_type,
            "error": self.error,
            "inputs_modified": list(self.inputs_modified),
            "differences": [difference.to_dict() for difference in self.differences],
            "differing_count": self.differing_count,
            "seconds": self.seconds,
            "hidden": self.hidden,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseResult:
        return cls(
            name=str(data["name"]),
            group=str(data["group"]),
            status=CaseStatus(data["status"]),
            problems=tuple(str(p) for p in data["problems"]),
            inputs=tuple((str(name), decode_value(value)) for name, value in data["inputs"]),
            expected=_array(data["expected"]),
            got=_array(data["got"]),
            return_type=str(data["return_type"]),
            error=None if data["error"] is None else str(data["error"]),
            inputs_modified=tuple(bool(m) for m in data["inputs_modified"]),
            differences=tuple(Difference.from_dict(d) for d in data["differences"]),
            differing_count=int(data["differing_count"]),
            seconds=float(data["seconds"]),
            hidden=bool(data.get("hidden", False)),
        )


@frozen(eq=True)
class GroupResult:
    """One scored group: an explicit case, or all draws of a random block."""

    name: str
    is_random: bool
    line: int
    max_score: float
    cases: tuple[CaseResult, ...]
    hidden: bool = False

    @functools.cached_property  # judging and every renderer ask again and again; the cases never change
    def status(self) -> CaseStatus:
        if all(case.passed for case in self.cases):
            return CaseStatus.PASSED
        if any(case.status is CaseStatus.FAILED for case in self.cases):
            return CaseStatus.FAILED
        return CaseStatus.NOT_RUN

    @property
    def passed(self) -> bool:
        return self.status is CaseStatus.PASSED

    @property
    def score(self) -> float:
        return self.max_score if self.passed else 0.0

    @functools.cached_property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(case for case in self.cases if not case.passed)

    @property
    def seconds(self) -> float:
        return sum(case.seconds for case in self.cases)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "is_random": self.is_random,
            "line": self.line,
            "max_score": self.max_score,
            "hidden": self.hidden,
            "cases": [case.to_dict() for case in self.cases],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupResult:
        return cls(
            name=str(data["name"]),
            is_random=bool(data["is_random"]),
            line=int(data["line"]),
            max_score=float(data["max_score"]),
            cases=tuple(CaseResult.from_dict(case) for case in data["cases"]),
            hidden=bool(data.get("hidden", False)),
        )


@frozen(eq=True)
class ExerciseResult:
    """How one learner file was judged for one exercise. Renderers in :mod:`quizkit.report` consume it."""

    lesson_id: str
    exercise_id: str
    title: str
    source: Path
    status: Status  # CORRECT (all groups pass), PARTIAL or INCORRECT
    score: float
    max_score: float
    groups: tuple[GroupResult, ...]
    run_status: AnyRunStatus  # how the run ended (RunStatus.OK, RunStatus.TIMEOUT, GraderStatus.GRADER_ERROR, ...)
    run_message: str  # the explanation when the run did not complete normally
    run_detail: str  # syntax error pointer or traceback of a file that did not load ("" otherwise)
    hints: tuple[str, ...]  # likely mistakes detected from the results (quizkit.mistakes)
    output: str  # what the learner's code printed
    output_truncated: bool
    seconds: float
    output_withheld: bool = False  # the code ran hidden cases, so what it printed is not shown

    @property
    def cases(self) -> tuple[CaseResult, ...]:
        return tuple(case for group in self.groups for case in group.cases)

    @property
    def is_correct(self) -> bool:
        return self.status is Status.CORRECT

    @property
    def passed_groups(self) -> int:
        return sum(group.passed for group in self.groups)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesson_id": self.lesson_id,
            "exercise_id": self.exercise_id,
            "title": self.title,
            "source": str(self.source),
            "status": self.status.value,
            "score": self.score,
            "max_score": self.max_score,
            "groups": [group.to_dict() for group in self.groups],
            "run_status": self.run_status.value,
            "run_message": self.run_message,
            "run_detail": self.run_detail,
            "hints": list(self.hints),
            "output": self.output,
            "output_truncated": self.output_truncated,
            "seconds": self.seconds,
            "output_withheld": self.output_withheld,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExerciseResult:
        return cls(
            lesson_id=str(data["lesson_id"]),
            exercise_id=str(data["exercise_id"]),
            title=str(data["title"]),
            source=Path(data["source"]),
            status=Status(data["status"]),
            score=float(data["score"]),
            max_score=float(data["max_score"]),
            groups=tuple(GroupResult.from_dict(group) for group in data["groups"]),
            run_status=run_status_from(data["run_status"]),
            run_message=str(data["run_message"]),
            run_detail=str(data["run_detail"]),
            hints=tuple(str(h) for h in data["hints"]),
            output=str(data["output"]),
            output_truncated=bool(data["output_truncated"]),
            seconds=float(data["seconds"]),
            output_withheld=bool(data.get("output_withheld", False)),
        )
