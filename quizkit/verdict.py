"""The result of judging one answer: plain data that every renderer consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from enum import Enum

from quizkit.model import frozen


class Status(str, Enum):
    CORRECT = "correct"
    PARTIAL = "partial"
    INCORRECT = "incorrect"
    INVALID = "invalid"  # could not be read; not counted as an attempt

    @classmethod
    def graded(cls, complete: bool, some_credit: bool) -> Status:
        """CORRECT when everything is right, else PARTIAL when something earns credit, else INCORRECT."""
        return cls.CORRECT if complete else cls.PARTIAL if some_credit else cls.INCORRECT


@frozen(eq=True)
class Verdict:
    """How one answer to one question was judged."""

    status: Status
    score: float
    max_score: float
    feedback: tuple[str, ...] = ()
    interpreted_as: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def counts_as_attempt(self) -> bool:
        return self.status is not Status.INVALID

    @property
    def is_correct(self) -> bool:
        return self.status is Status.CORRECT

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "score": self.score,
            "max_score": self.max_score,
            "feedback": list(self.feedback),
            "interpreted_as": self.interpreted_as,
            **({"details": dict(self.details)} if self.details else {}),
        }
