"""``quizkit grade``: batch grading of a class's exercise files, resumable and flat in memory.

Layout of the input folder: ``DIR/<learner>/<exercise>.py`` or ``DIR/<learner>__<exercise>.py``.
Every file is judged exactly as ``quizkit submit`` judges it (an isolated child process per file,
through the sandbox's warm fork server), ``jobs`` files at a time.

Resuming: after each learner's files are graded, their feedback file is written and one line is
appended to ``<out>.state.jsonl`` recording, per exercise, a fingerprint of the file (its bytes plus
the lesson file and the reference solution) and the score. A later run grades only the files whose
fingerprint is new, so an interrupted run carries on where it stopped, and a lesson or reference
change regrades everything it affects. The feedback file is written before the state line: a run
killed in between grades that learner again, which is harmless.

Feedback: ``feedback/<learner>.json`` holds, per exercise, the document of
:func:`quizkit.report.render_json` for that file, plus the learner's total; an unchanged file's entry
is carried over from the previous feedback file.

Memory: submissions are discovered as paths, fed to the sandbox lazily, and each result is reduced
to its score as soon as the learner's feedback file is written, so memory does not grow with the
size of the class beyond a few numbers per learner.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from quizkit.errors import UsageError
from quizkit.fileio import atomic_write_text

if TYPE_CHECKING:
    from quizkit.exercises import ExerciseResult
    from quizkit.lesson import Lesson
    from quizkit.sandbox import Job

STATE_FORMAT = 1
FLAT_SEPARATOR = "__"


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
    jobs: int = 2
    restart: bool = False  # ignore the saved state and grade everything again


@dataclass(frozen=True)
class Submission:
    """One learner's file for one exercise."""

    learner: str
    exercise_id: str
    path: Path


@dataclass(frozen=True)
class Discovery:
    """What was found in the input folder."""

    submissions: tuple[Submission, ...]  # sorted by learner, then exercise
    skipped: tuple[str, ...]  # why each non-matching file was left out


@dataclass(frozen=True)
class FileScore:
    """All that is kept of a graded file: enough for the gradebook and to decide on regrading."""

    fingerprint: str
    score: float
    max_score: float


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

    def describe(self) -> str:
        rate = f" ({self.graded / self.seconds:.0f} files/s)" if self.graded and self.seconds > 0 else ""
        return (
            f"graded {self.graded} file(s) in {self.seconds:.1f} s{rate}, reused {self.reused} unchanged; "
            f"{self.files} file(s) from {self.learners} learner(s)\n"
            f"gradebook: {self.gradebook}\nfeedback:  {self.feedback_dir}"
        )


# ---------------------------------------------------------------------------------------------
# Finding the files
# ---------------------------------------------------------------------------------------------


def discover(directory: Path, lesson: Lesson, ignore: Iterable[Path] = ()) -> Discovery:
    """The learners' files in ``directory``, in either layout; other files are listed as skipped.

    Paths in ``ignore`` (the gradebook and feedback of an earlier run, when they live inside
    ``directory``) are left out silently, like hidden files and ``__pycache__`` folders.
    """
    exercise_ids = sorted((e.id for e in lesson.exercises), key=len, reverse=True)  # longest suffix first
    ignored = {path.resolve() for path in ignore}
    found: dict[tuple[str, str], Submission] = {}
    skipped: list[str] = []

    def add(learner: str, exercise_id: str, path: Path) -> None:
        key = (learner, exercise_id)
        if key in found:
            skipped.append(f"{path}: {learner} already handed in {exercise_id} as {found[key].path}")
        else:
            found[key] = Submission(learner, exercise_id, path)

    for entry in sorted(directory.iterdir()):
        if _hidden(entry) or entry.resolve() in ignored:
            continue
        if entry.is_dir():
            for file in sorted(entry.rglob("*")):
                if file.is_dir() or any(_hidden(part) for part in file.relative_to(entry).parts):
                    continue
                if file.parent == entry and file.suffix == ".py" and file.stem in exercise_ids:
                    add(entry.name, file.stem, file)
                else:
                    skipped.append(f"{file}: not an exercise of {lesson.id}")
            continue
        match = next(
            (i for i in exercise_ids if entry.suffix == ".py" and entry.stem.endswith(FLAT_SEPARATOR + i)), None
        )
        learner = entry.stem[: -len(FLAT_SEPARATOR + match)] if match else ""
        if match and learner:
            add(learner, match, entry)
        else:
            expected = "<learner>/<exercise>.py or <learner>__<exercise>.py"
            skipped.append(f"{entry}: not an exercise of {lesson.id} (expected {expected})")
    submissions = sorted(found.values(), key=lambda s: (s.learner, s.exercise_id))
    return Discovery(tuple(submissions), tuple(skipped))


def _hidden(path: Path | str) -> bool:
    name = path.name if isinstance(path, Path) else path
    return name.startswith(".") or name == "__pycache__"


# ---------------------------------------------------------------------------------------------
# The saved state
# ---------------------------------------------------------------------------------------------


def state_path(gradebook: Path) -> Path:
    return gradebook.with_name(gradebook.name + ".state.jsonl")


def feedback_dir(gradebook: Path) -> Path:
    return gradebook.parent / "feedback"


def _read_state(path: Path, lesson_id: str) -> tuple[dict[str, dict[str, FileScore]], list[str]]:
    """Per learner, the scores recorded by earlier runs (the last line for a learner wins).

    A line that does not parse is dropped: normally the last one, cut short when a run was killed
    while writing it. That learner is then simply graded again.
    """
    learners: dict[str, dict[str, FileScore]] = {}
    warnings: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return learners, warnings
    if not lines:
        return learners, warnings
    header = _parse_line(lines[0])
    if header is None or header.get("format") != STATE_FORMAT or header.get("lesson") != lesson_id:
        warnings.append(f"{path} is not a state file of {lesson_id}; grading everything again")
        return {}, warnings
    for number, line in enumerate(lines[1:], start=2):
        record = _parse_line(line)
        entry = _learner_entry(record) if record is not None else None
        if entry is None:
            if number != len(lines):
                warnings.append(f"{path}:{number}: unreadable line ignored; that learner is graded again")
            continue
        learners[entry[0]] = entry[1]
    return learners, warnings


def _parse_line(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


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
    """Appends one line per learner; each line is flushed so that a killed run loses at most one.

    The file is first rewritten (atomically) with the records still valid, so that it does not grow
    with every run and a line cut short by a kill is not continued by the next run's first line.
    """

    def __init__(self, path: Path, lesson_id: str, saved: dict[str, dict[str, FileScore]]) -> None:
        lines = [json.dumps({"format": STATE_FORMAT, "lesson": lesson_id})]
        lines += [_state_line(learner, scores) for learner, scores in saved.items()]
        atomic_write_text(path, "".join(line + "\n" for line in lines))
        self._handle = path.open("a", encoding="utf-8")

    def record(self, learner: str, scores: dict[str, FileScore]) -> None:
        self._handle.write(_state_line(learner, scores) + "\n")
        self._handle.flush()

    def __enter__(self) -> _StateWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
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
) -> GradeSummary:
    """Grade every learner's files in ``directory`` and write the gradebook and feedback files."""
    started = time.perf_counter()
    feedback = feedback_dir(gradebook)
    state_file = state_path(gradebook)
    discovery = discover(directory, lesson, ignore=(gradebook, feedback, state_file))
    warnings = [f"skipped {reason}" for reason in discovery.skipped]
    saved, state_warnings = ({}, []) if options.restart else _read_state(state_file, lesson.id)
    warnings += state_warnings
    fingerprint = _Fingerprints(lesson)
    fingerprints = {s: fingerprint.of(s) for s in discovery.submissions}
    by_learner = _group(discovery.submissions)
    scores: dict[str, dict[str, FileScore]] = {}
    work: list[_LearnerWork] = []
    for learner, submissions in by_learner.items():
        item = _work_for(learner, submissions, fingerprints, saved.get(learner, {}), feedback / f"{learner}.json")
        if item is None:
            scores[learner] = saved[learner]
        else:
            work.append(item)
    graded = sum(len(item.stale) for item in work)
    progress = progress or _Silent()
    with _StateWriter(state_file, lesson.id, saved) as writer:
        progress.start(graded)
        try:
            for learner, learner_scores in _grade(lesson, work, fingerprints, saved, feedback, options, progress):
                writer.record(learner, learner_scores)
                scores[learner] = learner_scores
        finally:
            progress.finish()
    atomic_write_text(gradebook, _gradebook_csv(lesson, scores))
    return GradeSummary(
        learners=len(by_learner),
        files=len(discovery.submissions),
        graded=graded,
        reused=len(discovery.submissions) - graded,
        seconds=time.perf_counter() - started,
        gradebook=gradebook,
        feedback_dir=feedback,
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class _LearnerWork:
    """A learner whose feedback file must be written again, and which of their files to run."""

    learner: str
    stale: tuple[Submission, ...]  # new or changed files: graded in this run
    kept: tuple[str, ...]  # exercises whose saved score and feedback entry still hold


def _work_for(
    learner: str,
    submissions: list[Submission],
    fingerprints: dict[Submission, str],
    previous: dict[str, FileScore],
    feedback_file: Path,
) -> _LearnerWork | None:
    """None when nothing changed for ``learner``; else what to grade and what to keep."""
    stale = tuple(
        s
        for s in submissions
        if s.exercise_id not in previous or previous[s.exercise_id].fingerprint != fingerprints[s]
    )
    kept = tuple(s.exercise_id for s in submissions if s not in stale)
    if not stale and len(previous) == len(submissions) and feedback_file.is_file():
        return None
    if kept and _saved_feedback(feedback_file, kept) is None:
        return _LearnerWork(learner, tuple(submissions), ())  # the old feedback is gone: grade all again
    return _LearnerWork(learner, stale, kept)


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


def _group(submissions: Sequence[Submission]) -> dict[str, list[Submission]]:
    groups: dict[str, list[Submission]] = {}
    for submission in submissions:
        groups.setdefault(submission.learner, []).append(submission)
    return groups


class _Fingerprints:
    """A file's fingerprint: its bytes, plus everything about the exercise that decides its grade."""

    def __init__(self, lesson: Lesson) -> None:
        lesson_bytes = lesson.path.read_bytes()
        self._exercise: dict[str, bytes] = {}
        for exercise in lesson.exercises:
            digest = hashlib.sha256(lesson_bytes)
            digest.update(exercise.reference.read_bytes() if exercise.reference.is_file() else b"")
            self._exercise[exercise.id] = digest.digest()

    def of(self, submission: Submission) -> str:
        digest = hashlib.sha256(self._exercise[submission.exercise_id])
        digest.update(submission.path.read_bytes())
        return digest.hexdigest()


def _grade(
    lesson: Lesson,
    work: Sequence[_LearnerWork],
    fingerprints: dict[Submission, str],
    saved: dict[str, dict[str, FileScore]],
    feedback: Path,
    options: GradeOptions,
    progress: Progress,
) -> Iterator[tuple[str, dict[str, FileScore]]]:
    """Grade the stale files; yield each learner's scores once their feedback file is written.

    A learner's results stay in memory only until their last file is judged (the sandbox finishes
    jobs roughly in the order given, which is by learner).
    """
    from quizkit.exercises import judge, plan_exercise
    from quizkit.sandbox import SubprocessRunner

    writer = _FeedbackWriter(lesson, feedback)
    for item in work:
        if not item.stale:  # a file was removed: only the feedback file changes
            yield item.learner, writer.write(item, saved.get(item.learner, {}), [])
    to_run = [item for item in work if item.stale]
    if not to_run:
        return
    with SubprocessRunner() as runner:
        runner.start(options.jobs)  # the fork servers start while the reference solutions run below
        needed = {s.exercise_id for item in to_run for s in item.stale}
        plans = {exercise.id: plan_exercise(exercise) for exercise in lesson.exercises if exercise.id in needed}
        in_flight: dict[int, tuple[_LearnerWork, Submission]] = {}  # by id(job); the runner holds each job

        def jobs() -> Iterator[Job]:
            # Made as the runner asks for work, so that the jobs are never all held at once.
            for item in to_run:
                for submission in item.stale:
                    job = plans[submission.exercise_id].job(submission.path)
                    in_flight[id(job)] = (item, submission)
                    yield job

        judged: dict[str, list[tuple[Submission, ExerciseResult]]] = {}
        for job, run in runner.run_many(jobs(), workers=options.jobs):
            item, submission = in_flight.pop(id(job))
            result = judge(plans[submission.exercise_id], run, submission.path, lesson.id)
            progress.advance()
            done = judged.setdefault(item.learner, [])
            done.append((submission, result))
            if len(done) == len(item.stale):
                del judged[item.learner]
                new = [(s, result, FileScore(fingerprints[s], result.score, result.max_score)) for s, result in done]
                yield item.learner, writer.write(item, saved.get(item.learner, {}), new)


class _FeedbackWriter:
    """Writes ``feedback/<learner>.json``: per exercise, report.py's JSON document for that file."""

    def __init__(self, lesson: Lesson, folder: Path) -> None:
        self.lesson = lesson
        self.folder = folder
        self._order = {exercise.id: number for number, exercise in enumerate(lesson.exercises)}

    def write(
        self,
        item: _LearnerWork,
        previous: dict[str, FileScore],
        new: list[tuple[Submission, ExerciseResult, FileScore]],
    ) -> dict[str, FileScore]:
        """Write the learner's file (kept entries copied from the old one) and return all their scores."""
        from quizkit.report import render_json

        path = self.folder / f"{item.learner}.json"
        kept = _saved_feedback(path, item.kept) if item.kept else {}
        if kept is None:  # it was readable when the run started
            raise UsageError(f"{path} was changed or removed while grading; run the command again")
        entries = {exercise_id: json.dumps(entry, indent=2, ensure_ascii=False) for exercise_id, entry in kept.items()}
        entries.update({s.exercise_id: render_json([result]) for s, result, _ in new})
        scores = {exercise_id: previous[exercise_id] for exercise_id in item.kept}
        scores.update({s.exercise_id: score for s, _, score in new})
        ordered = sorted(entries, key=self._order.__getitem__)
        # report.py's documents are embedded as they are rendered, not parsed and dumped again.
        files = ",\n".join(f"    {json.dumps(i)}: " + entries[i].replace("\n", "\n    ") for i in ordered)
        head = {
            "learner": item.learner,
            "lesson": self.lesson.id,
            "score": sum(s.score for s in scores.values()),
            "max_score": sum(s.max_score for s in scores.values()),
        }
        fields = "".join(
            f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n" for key, value in head.items()
        )
        text = "{\n" + fields + '  "files": {\n' + files + "\n  }\n}\n"
        atomic_write_text(path, text)
        return scores


def _gradebook_csv(lesson: Lesson, scores: dict[str, dict[str, FileScore]]) -> str:
    """One row per learner (sorted), one column per exercise (empty: not handed in), total, max."""
    exercise_ids = [exercise.id for exercise in lesson.exercises]
    maximum = sum(exercise.points for exercise in lesson.exercises)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner", *exercise_ids, "total", "max"])
    for learner in sorted(scores):
        row = scores[learner]
        cells = [_number(row[i].score) if i in row else "" for i in exercise_ids]
        total = sum(s.score for s in row.values())
        writer.writerow([learner, *cells, _number(total), _number(maximum)])
    return buffer.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"
