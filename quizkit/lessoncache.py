"""Caches of lesson files, so that commands skip work already done.

Three kinds of entry, all JSON (never pickle) under ``<quizkit home>/cache/``:

- ``lessons/<sha256 of the text>.json``: the composed node tree of :mod:`quizkit.rawyaml`, every
  node with its line and column, since a lesson loaded by ``validate`` keeps them as its position map;
- ``models/<digest>.json``: the built :class:`~quizkit.lesson.Lesson` of a file that loads without
  problems (``take``, ``submit`` and ``grade`` then skip the schema and the builder);
- ``summaries/<digest>.json``: what ``quizkit list`` shows.

The last two are keyed by the lesson text, where it was loaded from, the files beside it and its
solutions, and quizkit's own code. (:mod:`quizkit.plancache` keeps grading plans the same way.)
Each entry carries an HMAC-SHA256 over its key digest and its body, keyed by the per-user secret in
:func:`quizkit.files.secret_key`. An entry is used only when its MAC is right: a file changed on disk
(by learner code run without isolation, say) is not believed; it is built again and the entry
rewritten. Everything about the cache is best effort: any problem reading or writing it means
doing the work as if there were no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from quizkit import files

FORMAT = 2  # 2: the compact form of composed trees (rawyaml._to_plain)
MAX_ENTRY_BYTES = 16 << 20
# Entries kept per kind; writing one more removes the least recently used. Every edit of a lesson,
# every new seed and every quizkit update makes new entries, so without a bound the cache would only
# grow (a composed lesson 3 is 0.2 MB, a grading plan about 10 KB).
MAX_ENTRIES = {"lessons": 32, "models": 32, "summaries": 64, "plans": 256}


def entry(kind: str, digest: str) -> tuple[Path, str] | None:
    """Where the entry of ``kind`` ("lessons", "models", "summaries", "plans") for ``digest`` is kept."""
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
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used now: the last to be removed when the cache is pruned
    return value


def write_authentic(path: Path, digest: str, value: Any) -> None:
    """Keep ``value`` at ``path`` for ``digest`` with its MAC; silently nothing when that is not possible."""
    try:
        key = files.secret_key(create=True)
        if key is None:
            return
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        # Atomic, so never read half-written; not fsynced: an entry a crash loses or tears fails its
        # MAC and is built again, which is all a cache owes.
        files.atomic_write_text(path, _mac(key, digest, body) + "\n" + body, durable=False)
        _prune(path.parent, MAX_ENTRIES.get(path.parent.name, 64))
    except (OSError, ValueError, files.NotReadable, files.KeyError_):
        return


def _prune(folder: Path, keep: int) -> None:
    """Remove the least recently used entries of ``folder`` beyond the newest ``keep``."""
    with os.scandir(folder) as listing:
        entries = [item for item in listing if item.name.endswith(".json") and item.is_file(follow_symlinks=False)]
    if len(entries) <= keep:
        return
    entries.sort(key=lambda item: item.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
    for item in entries[keep:]:
        with contextlib.suppress(OSError):
            os.unlink(item.path)


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


def _lesson_entry(kind: str, lesson_path: Path, solutions_dir: Path, text_digest: str) -> tuple[Path, str] | None:
    """Where the entry of ``kind`` for a lesson is kept, keyed by everything it depends on: the
    lesson's text (given by its digest) and where it was loaded from, the names, sizes and times of
    the files beside it and of its solutions (starters and references are checked at load), and
    quizkit's own code (its package and subpackages; bytecode folders left out, since they change
    whenever Python writes a cached module)."""
    import quizkit

    package = Path(quizkit.__file__).parent
    try:
        parts = [
            quizkit.__version__,
            str(lesson_path),
            str(solutions_dir),
            str(lesson_path.resolve()),
            str(solutions_dir.resolve()),
            text_digest,
        ]
        folders = [lesson_path.parent, solutions_dir, package]
        with os.scandir(package) as listing:
            folders += sorted(
                Path(item.path) for item in listing if item.is_dir(follow_symlinks=False) and item.name != "__pycache__"
            )
        for folder in folders:
            if folder.is_dir():
                with os.scandir(folder) as listing:
                    for item in sorted(listing, key=lambda e: e.name):
                        if item.name != "__pycache__":
                            info = item.stat(follow_symlinks=False)
                            parts.append(f"{folder.name}/{item.name}:{info.st_size}:{info.st_mtime_ns}")
    except OSError:
        return None
    return entry(kind, hashlib.sha256("\n".join(parts).encode("utf-8", errors="surrogatepass")).hexdigest())


def _summary_entry(lesson_path: Path, solutions_dir: Path) -> tuple[Path, str] | None:
    try:
        text_digest = hashlib.sha256(files.read_regular_file(lesson_path, limit=MAX_ENTRY_BYTES)).hexdigest()
    except (OSError, files.NotReadable):
        return None
    return _lesson_entry("summaries", lesson_path, solutions_dir, text_digest)


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


# ---------------------------------------------------------------------------------------------
# Built lessons: the model itself, so that take, submit and grade skip the schema and the builder
# ---------------------------------------------------------------------------------------------
#
# A lesson that loaded without problems is kept as JSON of its model objects: each object as its
# class name (a model class of quizkit.lesson, nothing else) and its fields; tuples, lists, paths,
# fractions and mappings marked as such, so the value read back is the value stored. An entry is
# stored only after reading it back gives the same model, and read only with the right MAC.


class _NotPlain(Exception):
    """A value the model encoding does not know: such a lesson is simply not kept."""


def _model_classes() -> dict[str, type]:
    import dataclasses

    from quizkit import lesson

    return {
        name: value
        for name, value in vars(lesson).items()
        if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == lesson.__name__
    }


def _encode(value: Any, classes: dict[str, type]) -> Any:
    import dataclasses
    from fractions import Fraction
    from pathlib import PurePath

    # Imports and field lists once per lesson, not once per value (a lesson is thousands of values).
    field_names: dict[type, list[str]] = {}

    def encode(value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, tuple):
            return {"t": [encode(item) for item in value]}
        if isinstance(value, list):
            return {"l": [encode(item) for item in value]}
        if isinstance(value, dict):
            return {"d": [[encode(key), encode(item)] for key, item in value.items()]}
        if isinstance(value, Fraction):
            return {"f": [value.numerator, value.denominator]}
        if isinstance(value, PurePath):
            return {"p": str(value)}
        kind = type(value)
        name = kind.__name__
        if dataclasses.is_dataclass(value) and classes.get(name) is kind:
            names = field_names.get(kind)
            if names is None:
                names = field_names[kind] = [field.name for field in dataclasses.fields(value)]
            return {"c": name, "v": {field: encode(getattr(value, field)) for field in names}}
        raise _NotPlain(name)

    return encode(value)


def _decode(plain: Any, classes: dict[str, type]) -> Any:
    if type(plain) is not dict:
        return plain
    if "t" in plain:
        return tuple(_decode(item, classes) for item in plain["t"])
    if "l" in plain:
        return [_decode(item, classes) for item in plain["l"]]
    if "c" in plain:
        return classes[plain["c"]](**{name: _decode(item, classes) for name, item in plain["v"].items()})
    if "d" in plain:
        return {_decode(key, classes): _decode(item, classes) for key, item in plain["d"]}
    if "f" in plain:
        from fractions import Fraction

        return Fraction(*plain["f"])
    if "p" in plain:
        return Path(plain["p"])
    raise ValueError("not a model entry")


def _model_entry(lesson_path: Path, solutions_dir: Path, text: str) -> tuple[Path, str] | None:
    text_digest = hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()
    return _lesson_entry("models", lesson_path, solutions_dir, text_digest)


def load_model(lesson_path: Path, solutions_dir: Path, text: str) -> Any | None:
    """The authentic kept model of the lesson ``text`` read from ``lesson_path``, or None."""
    found = _model_entry(lesson_path, solutions_dir, text)
    plain = None if found is None else read_authentic(*found)
    if plain is None:
        return None
    try:
        return _decode(plain, _model_classes())
    except (KeyError, TypeError, ValueError, ZeroDivisionError, RecursionError):
        return None


def store_model(lesson_path: Path, solutions_dir: Path, text: str, lesson: Any) -> None:
    """Keep the model of ``lesson`` (loaded without problems from ``text``), if it reads back the same."""
    classes = _model_classes()
    try:
        plain = _encode(lesson, classes)
        if repr(_decode(plain, classes)) != repr(lesson):
            return
    except (_NotPlain, KeyError, TypeError, ValueError, RecursionError):
        return
    found = _model_entry(lesson_path, solutions_dir, text)
    if found is not None:
        write_authentic(*found, plain)
