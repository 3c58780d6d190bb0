"""``quizkit grade``: batch grading of a class's exercise files, resumable and flat in memory.

Layout of the input folder: ``DIR/<learner>/<exercise>.py`` or ``DIR/<learner>__<exercise>.py``.
Every file is judged by the one grading core (:mod:`quizkit.grading`), exactly as ``quizkit submit``
judges it, ``jobs`` files at a time.

The folder is untrusted input (learners made it):

* Every entry is ``lstat``-ed and only regular files are graded. A symbolic link (even to a file
  inside DIR), FIFO, socket or device is reported against that learner and never followed or opened.
* A file is opened with ``O_NOFOLLOW | O_NONBLOCK`` relative to its (also ``O_NOFOLLOW``) folder,
  checked again on the open descriptor (a regular file, at most
  :data:`~quizkit.sandbox.MAX_SOURCE_BYTES`) and read once: those bytes are fingerprinted and are
  what runs (a :class:`~quizkit.sandbox.Source`; the sandbox never opens the path).
* Every problem with one learner or one file (a link, an unreadable or too large file, an empty or
  unreadable folder, a file whose grading raised inside quizkit) is a gradebook row with 0 points
  and the reason in its ``notes`` column, plus a warning line: the batch never aborts and no learner
  is left out of the gradebook.
* Learner names come from file names: they are shown with control characters and undecodable bytes
  escaped, CSV cells that a spreadsheet would run as a formula are prefixed with ``'``, and feedback
  file names are made safe (:func:`feedback_name`).

Resuming: after each learner's files are graded, their feedback file is written and one line is
appended to ``<out>.state.jsonl`` recording, per exercise, a fingerprint of the file (its bytes plus
the lesson file, the reference solution and the grade-time seed) and the score. Each line carries an
HMAC-SHA256 made with a key kept outside DIR and outside the sandbox (``grading.key`` in quizkit's
per-user folder, created 0600 on first use), over the lesson, the state file's location and the
line: a forged, foreign or damaged line is ignored with a warning and that learner is graded again.
A later run grades only the files whose fingerprint is new. The feedback file is written before the
state line: a run killed in between grades that learner again, which is harmless.

Feedback: ``feedback/<learner>.json`` holds, per exercise, the document of
:func:`quizkit.report.json_document` for that file (hidden cases say passed or failed only), the
learner's total and any problems; an unchanged file's entry is carried over from the previous file.

Memory: learners are read one at a time as the sandbox asks for work, and each result is reduced to
its score as soon as the learner's feedback file is written, so memory does not grow with the size
of the class beyond a few numbers (and any problem notes) per learner.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import hmac
import io
import json
import os
import re
import stat
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from quizkit.errors import InputError
from quizkit.files import KEY_FILE, KeyError_, atomic_write_text, default_home, secret_key, sync_everything

if TYPE_CHECKING:
    from quizkit.exercises import GradingPlan
    from quizkit.grading import Task
    from quizkit.lesson import Lesson
    from quizkit.results import ExerciseResult
    from quizkit.sandbox import Runner, Source

STATE_FORMAT = 2
FLAT_SEPARATOR = "__"
GRADE_SEED_FILE = "grade_seed"  # in the course's solutions/ folder: the course's grade-time secret
# Cells a spreadsheet would run as a formula start with one of these (OWASP's CSV injection advice).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Progress(Protocol):
    """Receives progress callbacks (the CLI's progress bar)."""

    def start(self, total: int) -> None: ...

    def advance(self) -> None: ...

    def finish(self) -> None: ...


class _Silent:
    """No progress display (library use, tests)."""

    def start(self, total: int) -> None:
        pass

    def advance(self) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass(frozen=True)
class GradeOptions:
    """How ``quizkit grade`` runs: workers, restart, grade-time seed and isolation."""

    jobs: int = 2
    restart: bool = False  # ignore the saved state and grade everything again
    seed: int | None = None  # grade-time seed for the random cases (None: the lesson's own seeds)
    isolation: str = "required"  # the SubprocessRunner's isolation mode; "off" with --no-isolation


@dataclass(frozen=True)
class Submission:
    """One learner's file for one exercise, as found in the folder (nothing read yet)."""

    learner: str  # as shown: see shown_name
    exercise_id: str
    parts: tuple[str, ...]  # the entry's path below DIR, as raw names: ("alice", "clamp.py") or ("alice__clamp.py",)
    problem: str | None = None  # why it cannot be graded, when discovery already knows (not a regular file)

    @property
    def shown(self) -> Path:
        """The path below DIR, as feedback and warnings name it."""
        return Path(*(shown_name(part) for part in self.parts))


@dataclass(frozen=True)
class Discovery:
    """What was found in the input folder."""

    submissions: tuple[Submission, ...]  # sorted by learner, then exercise
    learner_problems: tuple[tuple[str, str], ...]  # (learner, reason): learners with nothing gradable
    skipped: tuple[str, ...]  # why each non-matching entry was left out

    @property
    def learners(self) -> tuple[str, ...]:
        """Every learner found, with or without a gradable file, sorted."""
        return tuple(sorted({s.learner for s in self.submissions} | {name for name, _ in self.learner_problems}))


@dataclass(frozen=True)
class FileScore:
    """All that is kept of a graded file: enough for the gradebook and to decide on regrading."""

    fingerprint: str
    score: float
    max_score: float


@dataclass
class LearnerRow:
    """A learner's line of the gradebook: scores per exercise, and the problems met."""

    scores: dict[str, FileScore] = field(default_factory=dict)  # graded files (saved in the state)
    zeroed: set[str] = field(default_factory=set)  # exercises handed in but not gradable: 0 points
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GradeSummary:
    """The outcome of a batch, for the command's last lines of output."""

    learners: int
    files: int
    graded: int  # files run in this invocation
    reused: int  # files whose saved result was still valid
    seconds: float
    gradebook: Path
    feedback_dir: Path
    warnings: tuple[str, ...] = ()
    problems: int = 0  # learners or files with a problem (0 points, a note in the gradebook)
    seeded: bool = False  # random cases were drawn from a grade-time seed

    def describe(self) -> str:
        rate = f" ({self.graded / self.seconds:.0f} files/s)" if self.graded and self.seconds > 0 else ""
        problems = f"; {self.problems} problem(s), see the warnings and the notes column" if self.problems else ""
        seeded = "\nrandom cases were drawn from the grade-time seed" if self.seeded else ""
        return (
            f"graded {self.graded} file(s) in {self.seconds:.1f} s{rate}, reused {self.reused} unchanged; "
            f"{self.files} file(s) from {self.learners} learner(s){problems}{seeded}\n"
            f"gradebook: {self.gradebook}\nfeedback:  {self.feedback_dir}"
        )


# ---------------------------------------------------------------------------------------------
# Names from the folder
# ---------------------------------------------------------------------------------------------


def shown_name(raw: str) -> str:
    """A file name as quizkit shows and records it: printable, one line, and one-to-one.

    Backslashes are doubled; control characters, other unprintable ones and bytes that are not
    UTF-8 (which ``os.listdir`` hands over as surrogates) are written as ``\\xNN``/``\\uNNNN``.
    """
    if raw.isprintable() and "\\" not in raw and raw.isascii():
        return raw  # the usual name, unchanged (surrogates are neither ASCII nor printable)
    out = []
    for char in raw:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it
            out.append(f"\\x{code - 0xDC00:02x}")
        elif not char.isprintable():
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def feedback_name(learner: str) -> str:
    """The feedback file's stem for ``learner``: the name itself when it is a plain one, else a
    slug of it with a hash, so that no name can leave the feedback folder or clash with another."""
    if _SAFE_FILE_NAME.fullmatch(learner):
        return learner
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", learner).strip("._-")[:40] or "learner"
    return f"{slug}-{hashlib.sha256(learner.encode('utf-8')).hexdigest()[:12]}"


def csv_cell(text: str) -> str:
    """``text`` safe in a spreadsheet: a leading ``= + - @``, tab or CR is defused with ``'``."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# ---------------------------------------------------------------------------------------------
# Finding the files
# ---------------------------------------------------------------------------------------------

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    return "special file"


def _not_regular(shown: Path, mode: int) -> str:
    return f"{shown} is a {_kind(mode)}, not a regular file; it was not opened"


def discover(directory: Path, lesson: Lesson, ignore: Iterable[Path] = ()) -> Discovery:
    """The learners' files in ``directory``, in either layout; other entries are listed as skipped.

    Nothing is followed or opened except folders (with ``O_NOFOLLOW``). Entries in ``ignore`` (the
    gradebook, feedback and state of an earlier run inside ``directory``) are left out silently,
    like hidden entries and ``__pycache__`` inside learner folders; a hidden entry at the top is
    listed as skipped, unless its name follows the flat layout (``.x__<exercise>.py`` is learner ``.x``).
    """
    exercise_ids = sorted((e.id for e in lesson.exercises), key=len, reverse=True)  # longest suffix first
    here = directory.resolve()
    ignored = {path.name for path in ignore if path.resolve().parent == here}
    found: dict[tuple[str, str], Submission] = {}
    folders: dict[str, str | None] = {}  # learner folder -> its problem, if any
    skipped: list[str] = []
    learner_problems: list[tuple[str, str]] = []

    def add(submission: Submission) -> None:
        key = (submission.learner, submission.exercise_id)
        if key in found:
            skipped.append(f"{submission.shown}: {submission.learner} already handed in {key[1]} as {found[key].shown}")
        else:
            found[key] = submission

    try:
        root_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"{directory}: cannot read the folder: {exc.strerror or exc}") from exc
    try:
        for name in sorted(os.listdir(root_fd)):
            shown = shown_name(name)
            if name in ignored:
                continue
            exercise_id = next((i for i in exercise_ids if name.endswith(FLAT_SEPARATOR + i + ".py")), None)
            learner = name[: -len(FLAT_SEPARATOR + f"{exercise_id}.py")] if exercise_id else ""
            if not learner and (name.startswith(".") or name == "__pycache__"):
                skipped.append(f"{shown}: a hidden entry")
                continue
            try:
                mode = os.stat(name, dir_fd=root_fd, follow_symlinks=False).st_mode
            except OSError as exc:
                learner_problems.append((shown, f"{shown} could not be examined: {exc.strerror or exc}"))
                continue
            if stat.S_ISDIR(mode):
                folders[shown] = _scan_folder(root_fd, name, lesson, exercise_ids, add, skipped)
                continue
            if exercise_id and learner:
                problem = None if stat.S_ISREG(mode) else _not_regular(Path(shown), mode)
                add(Submission(shown_name(learner), exercise_id, (name,), problem))
            elif stat.S_ISREG(mode):
                expected = "<learner>/<exercise>.py or <learner>__<exercise>.py"
                skipped.append(f"{shown}: not an exercise of {lesson.id} (expected {expected})")
            else:  # a link or special file where a learner's folder would be: that learner's problem
                learner_problems.append((shown, f"{shown} is a {_kind(mode)}, not a folder; it was not followed"))
    finally:
        os.close(root_fd)
    learners_with_files = {learner for learner, _ in found}
    for learner, problem in folders.items():
        if learner not in learners_with_files:
            wanted = ", ".join(f"{i}.py" for i in sorted(exercise_ids))
            learner_problems.append((learner, problem or f"{learner}/ holds no exercise file (expected {wanted})"))
    submissions = sorted(found.values(), key=lambda s: (s.learner, s.exercise_id))
    return Discovery(tuple(submissions), tuple(sorted(learner_problems)), tuple(skipped))


def _scan_folder(
    root_fd: int, name: str, lesson: Lesson, exercise_ids: Sequence[str], add: Any, skipped: list[str]
) -> str | None:
    """Add the submissions in one learner folder; returns a problem if the folder cannot be read."""
    learner = shown_name(name)
    try:
        folder_fd = os.open(name, _OPEN_DIR, dir_fd=root_fd)
    except OSError as exc:
        return f"{learner}/ could not be opened: {exc.strerror or exc}"
    try:
        entries = sorted(os.listdir(folder_fd))
        for entry in entries:
            if entry.startswith(".") or entry == "__pycache__":
                continue
            shown = Path(learner, shown_name(entry))
            try:
                mode = os.stat(entry, dir_fd=folder_fd, follow_symlinks=False).st_mode
            except OSError as exc:
                skipped.append(f"{shown}: could not be examined: {exc.strerror or exc}")
                continue
            stem, dot, suffix = entry.rpartition(".")
            if dot and suffix == "py" and stem in exercise_ids:
                add(Submission(learner, stem, (name, entry), None if stat.S_ISREG(mode) else _not_regular(shown, mode)))
            else:
                skipped.append(f"{shown}: not an exercise of {lesson.id}")
    except OSError as exc:
        return f"{learner}/ could not be read: {exc.strerror or exc}"
    finally:
        os.close(folder_fd)
    return None


class UnreadableSubmission(Exception):
    """A submission that cannot be graded; the message says why, naming the file as shown."""


def read_submission(root_fd: int, submission: Submission, limit: int) -> bytes:
    """The bytes of ``submission``, read once, safely; raises :class:`UnreadableSubmission`.

    Every folder on the way and the file itself are opened without following links, the file
    without blocking (a FIFO cannot hang the grader); it must still be a regular file of at most
    ``limit`` bytes on the open descriptor, and at most ``limit + 1`` bytes are read.
    """
    shown = submission.shown
    opened: list[int] = []
    try:
        folder_fd = root_fd
        for part in submission.parts[:-1]:
            folder_fd = os.open(part, _OPEN_DIR, dir_fd=folder_fd)
            opened.append(folder_fd)
        fd = os.open(submission.parts[-1], _OPEN_FILE, dir_fd=folder_fd)
        opened.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableSubmission(_not_regular(shown, info.st_mode))
        if info.st_size > limit:
            raise UnreadableSubmission(f"{shown} is {info.st_size} bytes; the limit is {limit}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnreadableSubmission(f"{shown} grew past {limit} bytes while being read")
        return b"".join(chunks)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # a link put in place of the file or its folder
            raise UnreadableSubmission(f"{shown} (or its folder) is a symbolic link; it was not followed") from exc
        raise UnreadableSubmission(f"{shown} could not be read: {exc.strerror or exc}") from exc
    finally:
        for fd in reversed(opened):
            os.close(fd)


# ---------------------------------------------------------------------------------------------
# Where the outputs go, the grading key and the course's grade-time seed
# ---------------------------------------------------------------------------------------------


def state_path(gradebook: Path) -> Path:
    return gradebook.with_name(gradebook.name + ".state.jsonl")


def feedback_dir(gradebook: Path) -> Path:
    return gradebook.parent / "feedback"


def check_writable(gradebook: Path, feedback: Path) -> None:
    """Raise a one-line :class:`InputError` unless the gradebook and feedback can be written."""
    if gradebook.is_dir():
        raise InputError(f"--out {gradebook} is a folder; give a file name such as grades.csv")
    for folder in (gradebook.parent, feedback):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".quizkit-write-test-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise InputError(f"cannot write to {folder}: {exc.strerror or exc}") from exc
    if gradebook.exists():
        try:
            with gradebook.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise InputError(f"cannot write the gradebook {gradebook}: {exc.strerror or exc}") from exc


def grading_key(directory: Path, home: Path | None = None) -> bytes:
    """The key that authenticates resume state: quizkit's per-user secret (:func:`quizkit.files.secret_key`).

    ``home`` is quizkit's per-user folder (``$QUIZKIT_HOME``, else the platform's app folder), so
    the key is outside DIR and outside the sandbox; it is created on first use.
    """
    home = default_home() if home is None else home
    path = home / KEY_FILE
    if path.resolve().is_relative_to(directory.resolve()):
        raise InputError(
            f"the grading key {path} would lie inside {directory}; set QUIZKIT_HOME to a folder outside it"
        )
    try:
        key = secret_key(home)
    except OSError as exc:
        raise InputError(f"cannot use the grading key {path}: {exc.strerror or exc}") from exc
    except KeyError_ as exc:
        raise InputError(str(exc)) from exc
    assert key is not None
    return key


def course_grade_seed(solutions_dir: Path) -> int | None:
    """The course's grade-time secret: the integer in ``solutions/grade_seed``, or None without one."""
    path = solutions_dir / GRADE_SEED_FILE
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the grade seed {path}: {exc}") from exc
    if not re.fullmatch(r"\d{1,30}", text):
        raise InputError(f"{path} must hold one non-negative integer (the grade-time seed)")
    return int(text)


# ---------------------------------------------------------------------------------------------
# The saved state
# ---------------------------------------------------------------------------------------------


class _StateSigner:
    """HMAC-SHA256 over (lesson, the state file's location, the line) with the grading key."""

    def __init__(self, key: bytes, lesson_id: str, state_file: Path) -> None:
        self._key = key
        self._context = f"quizkit-grade-state/{STATE_FORMAT}\n{lesson_id}\n{state_file.resolve()}\n".encode()

    def sign(self, text: str) -> str:
        return f"{self._mac(text)} {text}"

    def open(self, line: str) -> dict[str, Any] | None:
        """The record of an authentic line, else None."""
        mac, _, text = line.partition(" ")
        if not hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(text).encode()):
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, self._context + text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _read_state(path: Path, lesson_id: str, signer: _StateSigner) -> tuple[dict[str, dict[str, FileScore]], list[str]]:
    """Per learner, the scores recorded by earlier runs (the last line for a learner wins).

    A line that is not authentic (forged, from another state file, cut short by a kill) is
    dropped with a warning; that learner is then simply graded again.
    """
    learners: dict[str, dict[str, FileScore]] = {}
    warnings: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return learners, warnings
    except OSError as exc:
        return learners, [f"cannot read {path} ({exc.strerror}); grading everything again"]
    if not lines:
        return learners, warnings
    header = signer.open(lines[0])
    if header is None or header.get("format") != STATE_FORMAT or header.get("lesson") != lesson_id:
        warnings.append(f"{path} is not an authentic state file of {lesson_id}; grading everything again")
        return {}, warnings
    for number, line in enumerate(lines[1:], start=2):
        record = signer.open(line)
        entry = _learner_entry(record) if record is not None else None
        if entry is None:
            who = _claimed_learner(line)
            warnings.append(
                f"{path}:{number}: line not authentic (forged, from another run, or cut short); "
                f"{'learner ' + who if who else 'its learner'} is graded again"
            )
            if who is not None:
                learners.pop(who, None)
            continue
        learners[entry[0]] = entry[1]
    return learners, warnings


def _claimed_learner(line: str) -> str | None:
    """The learner a rejected line names, if it names one (to regrade them, never to trust them)."""
    try:
        value = json.loads(line.partition(" ")[2])
    except (json.JSONDecodeError, RecursionError):
        return None
    learner = value.get("learner") if isinstance(value, dict) else None
    return shown_name(learner) if isinstance(learner, str) else None


def _state_line(learner: str, scores: dict[str, FileScore]) -> str:
    files = {
        i: {"fingerprint": s.fingerprint, "score": s.score, "max_score": s.max_score} for i, s in sorted(scores.items())
    }
    return json.dumps({"learner": learner, "files": files})


def _learner_entry(record: dict[str, Any]) -> tuple[str, dict[str, FileScore]] | None:
    learner, files = record.get("learner"), record.get("files")
    if not isinstance(learner, str) or not isinstance(files, dict):
        return None
    scores: dict[str, FileScore] = {}
    for exercise_id, raw in files.items():
        try:
            scores[exercise_id] = FileScore(str(raw["fingerprint"]), float(raw["score"]), float(raw["max_score"]))
        except (KeyError, TypeError, ValueError):
            return None
    return learner, scores


class _StateWriter:
    """Appends one signed line per learner, in groups: a killed run loses at most the last second.

    A learner's line is written only after their feedback file is durable: the feedback files of a
    group are written without fsync, then one ``sync`` makes them all durable, then the group's
    lines are appended and flushed (an fsync per feedback file cost more than grading it). The file
    is first rewritten (atomically) with the records still valid, so that it does not grow with
    every run and a line cut short by a kill is not continued by the next run's first line.
    """

    GROUP_SECONDS = 1.0

    def __init__(
        self, path: Path, lesson_id: str, saved: dict[str, dict[str, FileScore]], signer: _StateSigner
    ) -> None:
        self._signer = signer
        lines = [json.dumps({"format": STATE_FORMAT, "lesson": lesson_id})]
        lines += [_state_line(learner, scores) for learner, scores in saved.items()]
        atomic_write_text(path, "".join(signer.sign(line) + "\n" for line in lines))
        self._handle = path.open("a", encoding="utf-8")
        self._pending: list[str] = []
        self._last_commit = time.monotonic()

    def record(self, learner: str, scores: dict[str, FileScore]) -> None:
        self._pending.append(self._signer.sign(_state_line(learner, scores)) + "\n")
        if time.monotonic() - self._last_commit >= self.GROUP_SECONDS:
            self.commit()

    def commit(self) -> None:
        """Make the group's feedback files durable, then record the group's learners.

        The group is taken off the pending list before it is written: an interrupt (Ctrl-C) that
        lands after the write must not make the closing commit write the same lines again. One
        that lands before it loses the group, whose learners the next run grades again.
        """
        if self._pending:
            sync_everything()
            group, self._pending = "".join(self._pending), []
            self._handle.write(group)
            self._handle.flush()
            os.fsync(self._handle.fileno())
        self._last_commit = time.monotonic()

    def __enter__(self) -> _StateWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.commit()
        finally:
            self._handle.close()


# ---------------------------------------------------------------------------------------------
# Grading
# ---------------------------------------------------------------------------------------------


def grade_directory(
    lesson: Lesson,
    directory: Path,
    gradebook: Path,
    options: GradeOptions = GradeOptions(),
    progress: Progress | None = None,
    runner: Runner | None = None,
) -> GradeSummary:
    """Grade every learner's files in ``directory`` and write the gradebook and feedback files.

    ``runner`` runs the learners' code (default: a :class:`~quizkit.sandbox.SubprocessRunner` with
    ``options.isolation``; tests pass a :class:`~quizkit.testing.MockRunner`). Problems with the
    outputs (an unwritable ``--out``), the grading key or the course raise a one-line
    :class:`~quizkit.errors.QuizkitError` before any file is graded; problems with one learner or
    one file become rows with 0 points and warnings.
    """
    started = time.perf_counter()
    feedback = feedback_dir(gradebook)
    state_file = state_path(gradebook)
    check_writable(gradebook, feedback)
    signer = _StateSigner(grading_key(directory), lesson.id, state_file)
    discovery = discover(directory, lesson, ignore=(gradebook, feedback, state_file))
    warnings = [f"skipped {reason}" for reason in discovery.skipped]
    saved, state_warnings = ({}, []) if options.restart else _read_state(state_file, lesson.id, signer)
    warnings += state_warnings
    progress = progress or _Silent()
    rows: dict[str, LearnerRow] = {}
    scope = _RunnerScope(runner, options)
    batch = _Batch(lesson, discovery, saved, feedback, options, progress, warnings, scope.warm_up)
    with scope as active, _StateWriter(state_file, lesson.id, saved, signer) as writer:
        root_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        progress.start(len(discovery.submissions))
        try:
            for learner, row, changed in batch.run(root_fd, active):
                if changed:
                    writer.record(learner, row.scores)
                rows[learner] = row
        finally:
            os.close(root_fd)
            progress.finish()
    atomic_write_text(gradebook, _gradebook_csv(lesson, rows))
    return GradeSummary(
        learners=len(rows),
        files=len(discovery.submissions),
        graded=batch.graded,
        reused=batch.reused,
        seconds=time.perf_counter() - started,
        gradebook=gradebook,
        feedback_dir=feedback,
        warnings=tuple(warnings),
        problems=batch.problems,
        seeded=options.seed is not None,
    )


def default_runner(options: GradeOptions) -> Runner:
    """The runner ``grade`` uses unless given one: isolated worker processes, not started yet (a run
    over an unchanged class starts none). Raises IsolationUnavailable (one line, exit 2) when
    ``options.isolation`` is "required" and this machine cannot isolate."""
    from quizkit.sandbox import SubprocessRunner

    return SubprocessRunner(isolation=options.isolation, servers=0)


class _RunnerScope:
    """The given runner (left open: it is the caller's), or the default one, closed at the end."""

    def __init__(self, runner: Runner | None, options: GradeOptions) -> None:
        self._given = runner
        self._options = options
        self._owned: Any = None

    def __enter__(self) -> Runner:
        if self._given is not None:
            return self._given
        self._owned = default_runner(self._options)
        return self._owned

    def warm_up(self) -> None:
        """Start the workers now, so that they come up while the reference solutions run."""
        start = getattr(self._owned, "start", None)
        if start is not None:
            start(self._options.jobs)

    def __exit__(self, *exc_info: object) -> None:
        if self._owned is not None:
            self._owned.close()


@dataclass
class _Learner:
    """A learner whose files are being graded: what is known so far, until the feedback is written."""

    name: str
    row: LearnerRow
    entries: dict[str, ExerciseResult]  # new results by exercise (graded, rejected or grader errors)
    kept: dict[str, Any]  # feedback entries carried over from the previous feedback file
    waiting: int = 0  # files still running


class _Batch:
    """One run over a class: reads each learner's files once, streams the stale ones through the
    grading core, and hands back each learner's row as soon as their feedback file is written."""

    def __init__(
        self,
        lesson: Lesson,
        discovery: Discovery,
        saved: dict[str, dict[str, FileScore]],
        feedback: Path,
        options: GradeOptions,
        progress: Progress,
        warnings: list[str],
        warm_up: Callable[[], None] = lambda: None,
    ) -> None:
        self.lesson = lesson
        self._warm_up: Callable[[], None] | None = warm_up  # called once, before the first file must run
        self.discovery = discovery
        self.saved = saved
        self.feedback = feedback
        self.options = options
        self.progress = progress
        self.warnings = warnings
        self.graded = self.reused = self.problems = 0
        self._plans: dict[str, GradingPlan] = {}
        self._fingerprints = _Fingerprints(lesson, options.seed)
        self._writer = _FeedbackWriter(lesson, feedback)

    def plan(self, exercise_id: str) -> GradingPlan:
        from quizkit.exercises import plan_exercise

        if exercise_id not in self._plans:
            exercise = self.lesson.exercise(exercise_id)
            assert exercise is not None, "discovery only finds the lesson's exercises"
            self._plans[exercise_id] = plan_exercise(exercise, grade_seed=self.options.seed)
        return self._plans[exercise_id]

    def run(self, root_fd: int, runner: Runner) -> Iterator[tuple[str, LearnerRow, bool]]:
        """(learner, row, whether the state line changed) for every learner, in completion order."""
        from quizkit.grading import grade_tasks

        finished: deque[tuple[str, LearnerRow, bool]] = deque()
        running: dict[str, _Learner] = {}
        tasks = self._tasks(root_fd, finished, running)
        for task, result in grade_tasks(tasks, runner, lesson_id=self.lesson.id, workers=self.options.jobs):
            yield from _drain(finished)
            learner_name, exercise_id, fingerprint = cast("tuple[str, str, str]", task.key)
            learner = running[learner_name]
            self._take(learner, exercise_id, fingerprint, result)
            self.progress.advance()
            learner.waiting -= 1
            if not learner.waiting:
                del running[learner_name]
                yield learner_name, self._finish(learner), True
        yield from _drain(finished)

    def _take(self, learner: _Learner, exercise_id: str, fingerprint: str, result: ExerciseResult) -> None:
        from quizkit.results import GraderStatus

        learner.entries[exercise_id] = result
        if result.run_status is GraderStatus.GRADER_ERROR:
            self._problem(learner, exercise_id, f"{exercise_id}: grader error: {result.run_message}")
            return
        self.graded += 1
        learner.row.scores[exercise_id] = FileScore(fingerprint, result.score, result.max_score)

    def _problem(self, learner: _Learner, exercise_id: str | None, note: str) -> None:
        self.problems += 1
        learner.row.notes.append(note)
        if exercise_id is not None:
            learner.row.zeroed.add(exercise_id)
        self.warnings.append(f"{learner.name}: {note} (0 points)")

    def _tasks(
        self, root_fd: int, finished: deque[tuple[str, LearnerRow, bool]], running: dict[str, _Learner]
    ) -> Iterator[Task]:
        """The files to run, learner by learner, read just before the sandbox needs them."""
        from quizkit.grading import Task, rejected_result
        from quizkit.sandbox import MAX_SOURCE_BYTES, Source

        by_learner: dict[str, list[Submission]] = {}
        for submission in self.discovery.submissions:
            by_learner.setdefault(submission.learner, []).append(submission)
        learner_problems = dict(self.discovery.learner_problems)
        for name in self.discovery.learners:
            learner = _Learner(name, LearnerRow(), {}, {})
            if name in learner_problems:
                self._problem(learner, None, learner_problems[name])
            previous = self.saved.get(name, {})
            fresh: list[tuple[Submission, str, bytes]] = []
            unchanged: list[tuple[Submission, str, bytes]] = []
            readable: list[tuple[Submission, bytes]] = []
            for submission in by_learner.get(name, []):
                try:
                    if submission.problem is not None:
                        raise UnreadableSubmission(submission.problem)
                    readable.append((submission, read_submission(root_fd, submission, MAX_SOURCE_BYTES)))
                except UnreadableSubmission as exc:
                    reason = str(exc)
                    result = rejected_result(
                        self.plan(submission.exercise_id), submission.shown, reason, self.lesson.id
                    )
                    learner.entries[submission.exercise_id] = result
                    self._problem(learner, submission.exercise_id, f"{submission.exercise_id}: {reason}")
                    self.progress.advance()
            own = {submission.exercise_id: data for submission, data in readable}
            for submission, data in readable:
                # An exercise that uses another runs with the learner's own file for that one (never the
                # reference), so a change to either file is a change to this one's grade.
                fingerprint = self._fingerprints.of(
                    submission.exercise_id, data, self._used(submission.exercise_id, own)
                )
                saved = previous.get(submission.exercise_id)
                same = saved is not None and saved.fingerprint == fingerprint
                (unchanged if same else fresh).append((submission, fingerprint, data))
            feedback_file = self._writer.path_for(name)
            kept = _saved_feedback(feedback_file, [s.exercise_id for s, _, _ in unchanged]) if unchanged else {}
            if kept is None:  # the old feedback is gone: grade those files again
                fresh += unchanged
                unchanged, kept = [], {}
            for submission, _, _ in unchanged:
                learner.row.scores[submission.exercise_id] = previous[submission.exercise_id]
                self.reused += 1
                self.progress.advance()
            del unchanged
            learner.kept = kept
            nothing_new = not fresh and not learner.row.notes and not learner.entries
            if nothing_new and set(previous) == set(learner.row.scores) and feedback_file.is_file():
                finished.append((name, learner.row, False))
                continue
            if not fresh:
                finished.append((name, self._finish(learner), True))
                continue
            if self._warm_up is not None:
                self._warm_up()
                self._warm_up = None
            learner.waiting = len(fresh)
            running[name] = learner
            while fresh:
                submission, fingerprint, data = fresh.pop(0)  # the bytes are dropped once handed over
                yield Task(
                    self.plan(submission.exercise_id),
                    Source(f"{submission.exercise_id}.py", data),
                    key=(name, submission.exercise_id, fingerprint),
                    shown_as=submission.shown,
                    uses=self._used(submission.exercise_id, own),
                )

    def _used(self, exercise_id: str, own: dict[str, bytes]) -> tuple[Source, ...]:
        """The learner's own files for the exercises ``exercise_id`` uses, as the sandbox preloads them."""
        from quizkit.sandbox import Source

        exercise = self.lesson.exercise(exercise_id)
        uses = exercise.uses if exercise is not None else ()
        return tuple(Source(f"{used}.py", own[used]) for used in uses if used in own)

    def _finish(self, learner: _Learner) -> LearnerRow:
        self._writer.write(learner)
        return learner.row


def _drain(finished: deque[tuple[str, LearnerRow, bool]]) -> Iterator[tuple[str, LearnerRow, bool]]:
    while finished:
        yield finished.popleft()


def _saved_feedback(path: Path, exercise_ids: Sequence[str]) -> dict[str, Any] | None:
    """The entries of ``exercise_ids`` in a learner's feedback file, or None if any is unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing or damaged: the caller grades those files again
        return None
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, dict) or not all(isinstance(files.get(i), dict) for i in exercise_ids):
        return None
    return {exercise_id: files[exercise_id] for exercise_id in exercise_ids}


class _Fingerprints:
    """A file's fingerprint: its bytes, plus everything about the exercise that decides its grade."""

    def __init__(self, lesson: Lesson, seed: int | None) -> None:
        lesson_bytes = lesson.path.read_bytes()
        self._exercise: dict[str, bytes] = {}
        for exercise in lesson.exercises:
            digest = hashlib.sha256(lesson_bytes)
            digest.update(exercise.reference.read_bytes() if exercise.reference.is_file() else b"")
            digest.update(b"" if seed is None else f"grade seed {seed}".encode())
            self._exercise[exercise.id] = digest.digest()

    def of(self, exercise_id: str, data: bytes, uses: tuple[Source, ...] = ()) -> str:
        digest = hashlib.sha256(self._exercise[exercise_id])
        digest.update(data)
        for source in uses:
            digest.update(b"\0uses\0" + source.name.encode() + b"\0" + hashlib.sha256(source.data).digest())
        return digest.hexdigest()


class _FeedbackWriter:
    """Writes ``feedback/<learner>.json``: per exercise, report.py's JSON document for that file."""

    def __init__(self, lesson: Lesson, folder: Path) -> None:
        self.lesson = lesson
        self.folder = folder
        self._order = {exercise.id: number for number, exercise in enumerate(lesson.exercises)}

    def path_for(self, learner: str) -> Path:
        return self.folder / f"{feedback_name(learner)}.json"

    def write(self, learner: _Learner) -> None:
        """Write the learner's file: new results, entries carried over, total and problems."""
        from quizkit.report import json_document

        entries: dict[str, Any] = dict(learner.kept)
        entries.update({exercise_id: json_document([result]) for exercise_id, result in learner.entries.items()})
        scores = learner.row.scores.values()
        document = {
            "learner": learner.name,
            "lesson": self.lesson.id,
            "score": sum(s.score for s in scores),
            "max_score": sum(e.points for e in self.lesson.exercises),
            "problems": list(learner.row.notes),
            "files": {i: entries[i] for i in sorted(entries, key=self._order.__getitem__)},
        }
        # Compact, and durable only at the state writer's next group commit (see _StateWriter).
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
        atomic_write_text(self.path_for(learner.name), text, durable=False)


def _gradebook_csv(lesson: Lesson, rows: dict[str, LearnerRow]) -> str:
    """One row per learner (sorted), one column per exercise (empty: not handed in), total, max, notes."""
    exercise_ids = [exercise.id for exercise in lesson.exercises]
    maximum = sum(exercise.points for exercise in lesson.exercises)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner", *exercise_ids, "total", "max", "notes"])
    for learner in sorted(rows):
        row = rows[learner]
        cells = [
            _number(row.scores[i].score) if i in row.scores else "0" if i in row.zeroed else "" for i in exercise_ids
        ]
        total = sum(s.score for s in row.scores.values())
        notes = "; ".join(row.notes)
        writer.writerow([csv_cell(learner), *cells, _number(total), _number(maximum), csv_cell(notes)])
    return buffer.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"
