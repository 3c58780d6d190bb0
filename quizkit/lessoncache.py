"""Caches of lesson files, so that ``quizkit list`` and ``submit`` skip work already done.

Two kinds of entry, both JSON (never pickle) under ``<quizkit home>/cache/``: the composed node tree of
:mod:`quizkit.rawyaml` for a lesson text, every node with its line and column, since a loaded lesson
keeps them as its position map (``lessons/<sha256 of the text>.json``), and the summary
``quizkit list`` shows (``summaries/<digest>.json``, keyed by the lesson file, the files beside it
and quizkit's own code). Each entry carries an HMAC-SHA256 over its key digest and its body,
keyed by the per-user secret in :func:`quizkit.files.secret_key`. An entry is used only when its
MAC is right: a file changed on disk (by learner code run without isolation, say) is not believed;
it is composed again and the entry rewritten. Everything about the cache is best effort: any
problem reading or writing it means composing the file as if there were no cache.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from quizkit import files

FORMAT = 1
MAX_ENTRY_BYTES = 16 << 20


def entry(kind: str, digest: str) -> tuple[Path, str] | None:
    """Where the entry of ``kind`` ("lessons", "summaries", "plans") for ``digest`` is kept."""
    try:
        return files.default_home() / "cache" / kind / f"{digest}.json", digest
    except Exception:  # no usable home folder: no cache
        return None


def _entry(text: str) -> tuple[Path, str] | None:
    return entry("lessons", hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest())


def _mac(key: bytes, digest: str, body: str) -> str:
    return hmac.new(key, f"{FORMAT}\n{digest}\n{body}".encode(), hashlib.sha256).hexdigest()


def load(text: str) -> Any | None:
    """The cached tree of ``text``, or None (no entry, or one that is not authentic)."""
    entry = _entry(text)
    return None if entry is None else read_authentic(*entry)


def store(text: str, tree: Any) -> None:
    """Keep ``tree`` as the composed form of ``text``; silently nothing when that is not possible."""
    entry = _entry(text)
    if entry is not None:
        write_authentic(*entry, tree)


def read_authentic(path: Path, digest: str) -> Any | None:
    """The JSON value kept at ``path`` for ``digest`` if its MAC is right; else None."""
    try:
        raw = files.read_regular_file(path, limit=MAX_ENTRY_BYTES, follow_symlinks=False)
        key = files.secret_key(create=False)
    except (OSError, files.NotReadable, files.KeyError_):
        return None
    if key is None:
        return None
    mac, _, body = raw.decode("utf-8", errors="replace").partition("\n")
    if not hmac.compare_digest(mac, _mac(key, digest, body)):
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def write_authentic(path: Path, digest: str, value: Any) -> None:
    """Keep ``value`` at ``path`` for ``digest`` with its MAC; silently nothing when that is not possible."""
    try:
        key = files.secret_key(create=True)
        if key is None:
            return
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        files.atomic_write_text(path, _mac(key, digest, body) + "\n" + body)
    except (OSError, ValueError, files.NotReadable, files.KeyError_):
        return


# ---------------------------------------------------------------------------------------------
# Lesson summaries: what `quizkit list` shows, without loading the lesson
# ---------------------------------------------------------------------------------------------


class SummaryItem:
    """An item of a summarised lesson: what progress needs of it (id and points)."""

    __slots__ = ("id", "points")

    def __init__(self, item_id: str, points: float) -> None:
        self.id = item_id
        self.points = points


class LessonSummary:
    """The part of a loaded lesson ``quizkit list`` uses: title, counts, items and the total score.

    Duck-types :class:`quizkit.lesson.Lesson` for :meth:`quizkit.progress.ProgressStore.peek`.
    """

    def __init__(
        self,
        lesson_id: str,
        title: str,
        questions: int,
        exercises: int,
        readings: int,
        items: list[SummaryItem],
        exercise_ids: frozenset[str] = frozenset(),
    ) -> None:
        self.id, self.title = lesson_id, title
        self.question_count, self.exercise_count, self.reading_count = questions, exercises, readings
        self.items = tuple(items)
        self.exercise_ids = exercise_ids

    @property
    def max_score(self) -> float:
        return sum(item.points for item in self.items)

    @classmethod
    def of(cls, lesson: Any) -> LessonSummary:
        items = [SummaryItem(item.id, float(item.points)) for item in lesson.items]
        readings = len(getattr(lesson, "readings", ()))
        counts = len(lesson.questions), len(lesson.exercises), readings
        return cls(lesson.id, lesson.title, *counts, items, frozenset(lesson.exercise_ids))

    def to_plain(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "questions": self.question_count,
            "exercises": self.exercise_count,
            "readings": self.reading_count,
            "items": [[item.id, item.points] for item in self.items],
            "exercise_ids": sorted(self.exercise_ids),
        }

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> LessonSummary:
        items = [SummaryItem(str(item_id), float(points)) for item_id, points in plain["items"]]
        counts = int(plain["questions"]), int(plain["exercises"]), int(plain["readings"])
        exercise_ids = frozenset(str(exercise_id) for exercise_id in plain["exercise_ids"])
        return cls(str(plain["id"]), str(plain["title"]), *counts, items, exercise_ids)


def _summary_entry(lesson_path: Path, solutions_dir: Path) -> tuple[Path, str] | None:
    """Where the summary of this lesson would be kept, and the digest of everything it depends on:
    the lesson file's bytes, the names, sizes and times of the files beside it and of its solutions
    (starters and references are checked at load), and quizkit's own loader code."""
    import quizkit

    try:
        parts = [quizkit.__version__, str(lesson_path.resolve()), str(solutions_dir.resolve())]
        parts.append(hashlib.sha256(files.read_regular_file(lesson_path, limit=MAX_ENTRY_BYTES)).hexdigest())
        for folder in (lesson_path.parent, solutions_dir, Path(quizkit.__file__).parent):
            if folder.is_dir():
                with os.scandir(folder) as listing:
                    for item in sorted(listing, key=lambda e: e.name):
                        info = item.stat(follow_symlinks=False)
                        parts.append(f"{folder.name}/{item.name}:{info.st_size}:{info.st_mtime_ns}")
        digest = hashlib.sha256("\n".join(parts).encode("utf-8", errors="surrogatepass")).hexdigest()
        return entry("summaries", digest)
    except (OSError, files.NotReadable):
        return None


def load_summary(lesson_path: Path, solutions_dir: Path) -> LessonSummary | None:
    """The authentic cached summary of a lesson that loads without problems, or None."""
    entry = _summary_entry(lesson_path, solutions_dir)
    if entry is None:
        return None
    plain = read_authentic(*entry)
    try:
        return None if plain is None else LessonSummary.from_plain(plain)
    except (KeyError, TypeError, ValueError):
        return None


def store_summary(lesson_path: Path, solutions_dir: Path, lesson: Any) -> None:
    """Keep the summary of ``lesson`` (loaded without problems from ``lesson_path``)."""
    entry = _summary_entry(lesson_path, solutions_dir)
    if entry is not None:
        write_authentic(*entry, LessonSummary.of(lesson).to_plain())
