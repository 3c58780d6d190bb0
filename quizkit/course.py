"""Finding the course: the directory holding ``exercises/`` (and ``solutions/`` for grading).

Order: ``--course DIR``, then ``$QUIZKIT_COURSE``, then the nearest parent of the current directory
that has ``exercises/*/lesson.yaml``, then the course shipped with quizkit itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from quizkit.errors import CourseError, InputError
from quizkit.model import frozen
from quizkit.text import shorten

LESSON_FILE = "lesson.yaml"


@frozen(eq=True)
class Course:
    """A course folder (exercises/ and solutions/) and how it was found."""

    root: Path
    source: str  # how it was found, for `quizkit list`

    @property
    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    def lesson_ids(self) -> list[str]:
        """Folder names of the lessons in this course, sorted naturally (lesson2 before lesson10)."""
        if not self.exercises_dir.is_dir():
            return []
        found = [p.parent.name for p in self.exercises_dir.glob(f"*/{LESSON_FILE}")]
        return sorted(found, key=_natural_key)

    def lesson_path(self, lesson_id: str) -> Path:
        """The lesson file of ``lesson_id``, or an InputError that names the lessons that exist.

        Anything at that path counts as the lesson, even a directory or a FIFO: reading it then
        reports what is wrong there, which says more than "unknown lesson".
        """
        path = self.exercises_dir / lesson_id / LESSON_FILE
        bad_name = not lesson_id or any(char in lesson_id for char in "/\\") or lesson_id.startswith(".")
        # lexists is False for a name too long for the system or holding a NUL byte: no such lesson.
        if bad_name or not os.path.lexists(path):
            known = ", ".join(self.lesson_ids()) or "none"
            raise InputError(f"unknown lesson '{shorten(lesson_id, 40)}' (lessons in {self.root}: {known})")
        return path

    def solutions_for(self, lesson_id: str) -> Path:
        return self.solutions_dir / lesson_id


def _natural_key(name: str) -> tuple[object, ...]:
    import re

    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def _is_course(path: Path) -> bool:
    try:
        return any((path / "exercises").glob(f"*/{LESSON_FILE}"))
    except OSError as exc:  # e.g. a name longer than the system allows
        raise CourseError(f"course folder {shorten(str(path))}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # an embedded NUL byte
        raise CourseError(f"course folder {shorten(repr(str(path)))}: {exc}") from exc


def bundled_course_root() -> Path | None:
    """The course shipped with quizkit: inside the package when installed, the checkout when editable."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "bundled_course", package.parent):
        if _is_course(candidate):
            return candidate
    return None


def find_course(option: str | None = None, cwd: Path | None = None) -> Course:
    """Locate the course as described in the module docstring."""
    if option:
        root = Path(option).expanduser()
        if not _is_course(root):
            raise CourseError(f"--course {shorten(option)}: no exercises/*/{LESSON_FILE} found there")
        return Course(root.resolve(), "--course")
    env = os.environ.get("QUIZKIT_COURSE")
    if env:
        root = Path(env).expanduser()
        if not _is_course(root):
            raise CourseError(f"QUIZKIT_COURSE={shorten(env)}: no exercises/*/{LESSON_FILE} found there")
        return Course(root.resolve(), "$QUIZKIT_COURSE")
    here = (cwd or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if _is_course(directory):
            return Course(directory, "current directory")
    bundled = bundled_course_root()
    if bundled is None:
        raise CourseError("no course found: pass --course DIR or set QUIZKIT_COURSE")
    return Course(bundled, "bundled with quizkit")
