"""Learner progress: one JSON file per lesson, written durably after every answer.

Durability: :meth:`ProgressStore.save` returns only when the new file is on disk (the file and its
directory fsynced, see :mod:`quizkit.files`), and the session shows a verdict only after that, so
an answer the learner saw acknowledged survives a kill -9 or a power cut.

One writer per lesson: ``take`` holds an exclusive lock (:meth:`ProgressStore.lock`) on
``<lesson>.json.lock`` beside the progress file for the whole session, and a second session on the
same lesson is refused with a clear message. Refusing was chosen over merging two sessions' answers
item by item: a merge cannot say which of two different answers to the same question the learner
meant, both sessions would show stale "n of m done" counts and options, and hints seen in one
would not count in the other. With one writer guaranteed, temporary files that a killed writer left
behind (``.<lesson>.json.*.tmp``) are known to be stale and are removed when the lock is taken.

Reading is defensive: a regular file only (no FIFO, device or symbolic link), at most
:data:`MAX_PROGRESS_BYTES`, UTF-8, JSON nested at most :data:`MAX_JSON_DEPTH` deep, then every
field's type checked. A file that fails any of this (truncated, edited by hand, from a future
version, replaced by something else) is moved aside to ``<name>.corrupt-<timestamp>.json`` and
reported in one line, by ``take`` (the learner starts the lesson afresh instead of seeing a
traceback) and by ``list`` alike; nothing is deleted. Both move a file only while holding the
lesson's lock, so ``list`` never moves a file that a running session is about to replace.
"""

from __future__ import annotations

import errno
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quizkit.errors import ProgressError
from quizkit.files import (
    TEMP_SUFFIX,
    NotReadable,
    atomic_write_bytes,
    atomic_write_text,
    default_home,
    read_regular_file,
    temp_prefix,
)
from quizkit.verdict import Status

if TYPE_CHECKING:
    from quizkit.lesson import Lesson
    from quizkit.lessoncache import LessonSummary

FORMAT_VERSION = 2
# Version 1 files (before attempts and variants) read as they are: their records have no variant,
# and every answered question in them was final.
READABLE_VERSIONS = (1, 2)
# A real progress file is a few kilobytes; anything this large was not written by quizkit.
MAX_PROGRESS_BYTES = 4 << 20
# A progress document nests four levels deep; the guard keeps json from recursing on a hostile file.
MAX_JSON_DEPTH = 32

__all__ = [
    "FORMAT_VERSION",
    "ItemRecord",
    "ItemState",
    "LessonBusyError",
    "LessonProgress",
    "ProgressStore",
    "default_home",
    "install_starter",
]


class ItemState(str, Enum):
    """Where the learner stands on one item; the values are what progress files hold."""

    CORRECT = Status.CORRECT.value  # the final verdict of a question, or an exercise's best grade
    PARTIAL = Status.PARTIAL.value
    INCORRECT = Status.INCORRECT.value
    TRYING = "trying"  # answered wrong with attempts left
    SKIPPED = "skipped"
    READ = "read"  # an info item, shown to the end

    @classmethod
    def of(cls, status: Status) -> ItemState:
        """The state a final verdict leaves its item in (an invalid answer is never recorded)."""
        return cls(status.value)

    @property
    def done(self) -> bool:
        """The item needs nothing more from the learner."""
        return self not in (ItemState.SKIPPED, ItemState.TRYING)


@dataclass
class ItemRecord:
    """What the learner did with one question or exercise."""

    status: ItemState
    score: float
    max_score: float
    answer: str = ""
    hints_used: int = 0
    attempts: int = 0
    feedback: list[str] = field(default_factory=list)
    updated: float = 0.0
    variant: int | None = None  # the variant the learner is on (questions with parameters)

    @property
    def done(self) -> bool:
        return self.status.done

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


@dataclass
class LessonProgress:
    """One learner's progress in one lesson: each item's record, hints seen, finished or not."""

    lesson_id: str
    seed: int
    items: dict[str, ItemRecord] = field(default_factory=dict)
    hints_seen: dict[str, int] = field(default_factory=dict)  # hints shown before answering
    finished: bool = False

    def is_done(self, item_id: str, points: float, *, exercise: bool) -> bool:
        """Whether the learner is finished with an item: read, answered for good, or, for an
        exercise, graded at full marks (a partly right file stays open: ``take`` offers it again)."""
        record = self.items.get(item_id)
        if record is None or not record.done:
            return False
        return not exercise or record.score >= points

    def done_count(self, lesson: Lesson | LessonSummary) -> int:
        """How many of the lesson's scored items the learner is finished with (see :meth:`is_done`)."""
        exercises = lesson.exercise_ids
        return sum(self.is_done(item.id, item.points, exercise=item.id in exercises) for item in lesson.items)

    def score(self, lesson: Lesson | LessonSummary) -> float:
        """Points earned on the items the lesson has now (records of removed items do not count)."""
        return sum(self.items[item.id].score for item in lesson.items if item.id in self.items)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "lesson": self.lesson_id,
            "seed": self.seed,
            "finished": self.finished,
            "hints_seen": self.hints_seen,
            "items": {key: record.to_json() for key, record in self.items.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> LessonProgress:
        """Parse a progress document; raises ValueError on anything unexpected."""
        if not isinstance(data, dict) or data.get("version") not in READABLE_VERSIONS:
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
    "variant": (int, type(None)),
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
    fields = dict(raw)
    if "status" in fields:
        try:
            fields["status"] = ItemState(fields["status"])
        except ValueError:
            raise ValueError(f"record for {key}: unknown status {fields['status']!r}") from None
    try:
        return ItemRecord(**fields)
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


class LessonBusyError(ProgressError):
    """Another ``take`` session holds the lesson's lock."""


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_nesting_depth(text: str) -> int:
    """How deep the arrays and objects of ``text`` nest, counted without parsing it.

    Brackets inside strings are skipped; for text that is not valid JSON the count may be too high,
    never too low, which is the safe side for a guard in front of the recursive parser.
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


def parse_progress(data: bytes) -> LessonProgress:
    """A progress document from the bytes of a file; raises ValueError saying what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from exc
    if json_nesting_depth(text) > MAX_JSON_DEPTH:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    try:
        return LessonProgress.from_json(document)
    except (TypeError, OverflowError) as exc:  # e.g. hints_seen holding a list or a huge float
        raise ValueError(f"malformed progress ({exc})") from exc


def read_progress_file(path: Path) -> LessonProgress | None:
    """The progress in ``path`` (None if there is no file); raises ValueError if it is unusable."""
    try:
        data = read_regular_file(path, limit=MAX_PROGRESS_BYTES, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except NotReadable as exc:
        raise ValueError(str(exc)) from exc
    return parse_progress(data)


def install_starter(starter: Path, target: Path) -> None:
    """Copy ``starter`` to ``target`` unless the learner already has a non-empty file there.

    The copy is atomic, so a kill or a full disk leaves no half-written file; an empty file (what a
    copy that failed half-way used to leave) is replaced, since it cannot be the learner's work on
    an exercise whose starter has content. Raises ProgressError with one line on any OS error.
    """
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ProgressError(f"cannot use workspace file {target}: {exc.strerror or exc}") from exc
    if info is not None:
        if not os.path.isfile(target):
            raise ProgressError(f"workspace file {target} is not a regular file; move it away and try again")
        if info.st_size > 0:
            return
    try:
        atomic_write_bytes(target, starter.read_bytes())
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise ProgressError(f"cannot copy the starter file to {target}: {reason}") from exc


class ProgressStore:
    """Reads and writes the progress files below one home folder."""

    def __init__(self, home: Path) -> None:
        self.home = home

    @classmethod
    def default(cls) -> ProgressStore:
        return cls(default_home())

    def path_for(self, lesson_id: str) -> Path:
        return self.home / "progress" / f"{lesson_id}.json"

    def lock_path_for(self, lesson_id: str) -> Path:
        path = self.path_for(lesson_id)
        return path.with_name(path.name + ".lock")

    def workspace_for(self, lesson_id: str) -> Path:
        """Where `take` puts the learner's copies of the starter files."""
        return self.home / "workspace" / lesson_id

    @contextmanager
    def lock(self, lesson_id: str) -> Iterator[None]:
        """Hold the lesson's exclusive lock, or raise :class:`LessonBusyError` at once.

        The lock is an ``flock`` on a file beside the progress file: the kernel drops it when the
        process ends in any way (kill -9 included), so it can never be left stale. Stale temporary
        files of earlier, killed writers are removed once the lock is held.
        """
        path = self.lock_path_for(lesson_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            raise ProgressError(f"cannot open the lock file {path}: {exc.strerror or exc}") from exc
        try:
            _flock_exclusive(fd, lesson_id)
            self._remove_stale_temp_files(lesson_id)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _remove_stale_temp_files(self, lesson_id: str) -> None:
        path = self.path_for(lesson_id)
        for temp in path.parent.glob(f"{temp_prefix(path)}*{TEMP_SUFFIX}"):
            temp.unlink(missing_ok=True)

    def load(self, lesson_id: str) -> tuple[LessonProgress | None, str | None]:
        """The saved progress (or None), and a warning if a damaged file was moved aside."""
        path = self.path_for(lesson_id)
        try:
            return read_progress_file(path), None
        except ValueError as exc:
            reason = str(exc)
        backup = _free_backup_name(path)
        try:
            os.replace(path, backup)
        except OSError as exc:
            raise ProgressError(
                f"progress file {path} is damaged ({reason}) and cannot be moved aside: {exc.strerror or exc}"
            ) from exc
        return None, f"progress file {path} was damaged ({reason}); moved it to {backup.name}"

    def save(self, progress: LessonProgress) -> None:
        """Write ``progress`` durably; when this returns, the file is on disk."""
        path = self.path_for(progress.lesson_id)
        try:
            atomic_write_text(path, json.dumps(progress.to_json(), indent=1, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise ProgressError(f"cannot save progress to {path}: {exc.strerror or exc}") from exc

    def fresh(self, lesson_id: str, seed: int | None = None) -> LessonProgress:
        return LessonProgress(lesson_id, seed if seed is not None else int.from_bytes(os.urandom(4), "big") >> 1)

    def reset(self, lesson_id: str) -> None:
        try:
            self.path_for(lesson_id).unlink(missing_ok=True)
        except OSError as exc:  # e.g. a directory where the file should be
            raise ProgressError(
                f"cannot remove progress file {self.path_for(lesson_id)}: {exc.strerror or exc}"
            ) from exc

    def peek(self, lesson: Lesson | LessonSummary) -> str:
        """A one-line progress summary for `quizkit list`; a bad file is moved aside and reported."""
        note = ""
        try:
            progress = read_progress_file(self.path_for(lesson.id))
        except ValueError as exc:
            try:
                with self.lock(lesson.id):
                    progress, warning = self.load(lesson.id)  # reads again: a session may have saved since
            except LessonBusyError:
                return f"progress file damaged ({exc}); a take session has the lesson open"
            except ProgressError as error:
                return f"progress file damaged ({exc}); {error}"
            note = f"; warning: {warning}" if warning else ""
        if progress is None:
            return "not started" + note
        total = len(lesson.items)
        state = "finished" if progress.finished else f"{progress.done_count(lesson)}/{total} done"
        return f"{state}, score {progress.score(lesson):g}/{lesson.max_score:g}{note}"


def _flock_exclusive(fd: int, lesson_id: str) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before; the atomic writes still hold
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise LessonBusyError(
            f"{lesson_id} is open in another `quizkit take` session; finish or quit that one first (q saves and quits)"
        ) from None
    except OSError as exc:
        # A file system without flock support (some network mounts): carry on without it.
        if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
            raise ProgressError(f"cannot lock the progress of {lesson_id}: {exc.strerror or exc}") from exc
