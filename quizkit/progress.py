"""Learner progress: one JSON file per lesson, written atomically after every answer.

A file that cannot be read (truncated, edited by hand, from a future version) is moved aside to
``<name>.corrupt-<timestamp>.json`` and reported; the learner starts the lesson afresh instead of
seeing a traceback, and nothing is deleted.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quizkit.errors import ProgressError
from quizkit.fileio import atomic_write_text, default_home

if TYPE_CHECKING:
    from quizkit.lesson import Lesson

FORMAT_VERSION = 1


@dataclass
class ItemRecord:
    """What the learner did with one question or exercise."""

    status: str  # Status value, or "skipped"
    score: float
    max_score: float
    answer: str = ""
    hints_used: int = 0
    attempts: int = 0
    feedback: list[str] = field(default_factory=list)
    updated: float = 0.0

    @property
    def done(self) -> bool:
        return self.status != "skipped"


@dataclass
class LessonProgress:
    lesson_id: str
    seed: int
    items: dict[str, ItemRecord] = field(default_factory=dict)
    hints_seen: dict[str, int] = field(default_factory=dict)  # hints shown before answering
    finished: bool = False

    def score(self, lesson: "Lesson") -> float:
        """Points earned on the items the lesson has now (records of removed items do not count)."""
        return sum(self.items[item.id].score for item in lesson.items if item.id in self.items)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "lesson": self.lesson_id,
            "seed": self.seed,
            "finished": self.finished,
            "hints_seen": self.hints_seen,
            "items": {key: asdict(record) for key, record in self.items.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> "LessonProgress":
        """Parse a progress document; raises ValueError on anything unexpected."""
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError("unknown progress format")
        items_data = data.get("items")
        hints = data.get("hints_seen", {})
        if not isinstance(items_data, dict) or not isinstance(hints, dict):
            raise ValueError("malformed progress items")
        items = {str(key): _record_from_json(key, raw) for key, raw in items_data.items()}
        seed = data.get("seed")
        if not isinstance(seed, int):
            raise ValueError("malformed seed")
        return cls(
            lesson_id=str(data.get("lesson")),
            seed=seed,
            items=items,
            hints_seen={str(k): int(v) for k, v in hints.items()},
            finished=bool(data.get("finished", False)),
        )


_RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "status": (str,),
    "score": (int, float),
    "max_score": (int, float),
    "answer": (str,),
    "hints_used": (int,),
    "attempts": (int,),
    "feedback": (list,),
    "updated": (int, float),
}


def _record_from_json(key: object, raw: object) -> ItemRecord:
    """One item record, with every field's type checked (a hand-edited file must not crash later)."""
    if not isinstance(raw, dict):
        raise ValueError(f"malformed record for {key}")
    unknown = set(raw) - set(_RECORD_TYPES)
    if unknown:
        raise ValueError(f"record for {key} has unknown fields {sorted(unknown)}")
    for name, types in _RECORD_TYPES.items():
        if name in raw and (not isinstance(raw[name], types) or isinstance(raw[name], bool)):
            raise ValueError(f"record for {key}: {name} has the wrong type")
    if not all(isinstance(line, str) for line in raw.get("feedback", [])):
        raise ValueError(f"record for {key}: feedback must be text")
    try:
        return ItemRecord(**raw)
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"malformed record for {key}: {exc}") from exc


def _free_backup_name(path: Path) -> Path:
    """``<stem>.corrupt-<time>[-N].json`` that does not exist yet, so no earlier backup is overwritten."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.stem}.corrupt-{stamp}.json")
    counter = 1
    while candidate.exists():
        counter += 1
        candidate = path.with_name(f"{path.stem}.corrupt-{stamp}-{counter}.json")
    return candidate


class ProgressStore:
    """Reads and writes the progress files below one home folder."""

    def __init__(self, home: Path) -> None:
        self.home = home

    @classmethod
    def default(cls) -> "ProgressStore":
        return cls(default_home())

    def path_for(self, lesson_id: str) -> Path:
        return self.home / "progress" / f"{lesson_id}.json"

    def workspace_for(self, lesson_id: str) -> Path:
        """Where `take` puts the learner's copies of the starter files."""
        return self.home / "workspace" / lesson_id

    def load(self, lesson_id: str) -> tuple[LessonProgress | None, str | None]:
        """The saved progress (or None), and a warning if a damaged file was moved aside."""
        path = self.path_for(lesson_id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise ProgressError(f"cannot read progress file {path}: {exc.strerror}") from exc
        try:
            progress = LessonProgress.from_json(json.loads(text))
        except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
            backup = _free_backup_name(path)
            os.replace(path, backup)
            return None, f"progress file {path} was damaged ({exc}); moved it to {backup.name} and started afresh"
        return progress, None

    def save(self, progress: LessonProgress) -> None:
        path = self.path_for(progress.lesson_id)
        try:
            atomic_write_text(path, json.dumps(progress.to_json(), indent=1, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise ProgressError(f"cannot save progress to {path}: {exc.strerror or exc}") from exc

    def fresh(self, lesson_id: str, seed: int | None = None) -> LessonProgress:
        return LessonProgress(lesson_id, seed if seed is not None else int.from_bytes(os.urandom(4), "big") >> 1)

    def reset(self, lesson_id: str) -> None:
        self.path_for(lesson_id).unlink(missing_ok=True)

    def peek(self, lesson: "Lesson") -> str:
        """A one-line progress summary for `quizkit list`, never raising on a bad file."""
        path = self.path_for(lesson.id)
        try:
            progress = LessonProgress.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return "not started"
        except (OSError, ValueError, TypeError):
            return "progress file damaged (take will repair it)"
        done = sum(1 for item in lesson.items if item.id in progress.items and progress.items[item.id].done)
        total = len(lesson.items)
        state = "finished" if progress.finished else f"{done}/{total} done"
        return f"{state}, score {progress.score(lesson):g}/{lesson.max_score:g}"
