"""The one grading core: (exercise plan, learner source) items in, judged results out, streaming.

Every command that judges learner code goes through :func:`grade_tasks`: ``submit`` and ``take``
(through :func:`grade_files` and :func:`grade_file`), ``grade`` (a class, streamed), ``validate``
(the reference and the starter) and the mutation check (every mutant). So the judging rules of
:mod:`quizkit.exercises` and whatever isolation the runner gives hold everywhere alike.

The executor is a seam. :func:`grade_tasks` only asks the runner for
``run_many(jobs, workers) -> iterator of (job, RunResult)``, with jobs and results that are plain
data (arrays, bytes, strings). Today that is :class:`quizkit.sandbox.SubprocessRunner` (local
worker processes forked from warm servers); tests use :class:`quizkit.testing.MockRunner` or the
in-process runner; a course that outgrows one machine can hand the same jobs to a distributed
engine (Dask distributed, say) behind the same two methods, without touching planning or judging.

Memory is flat in the number of items: tasks are pulled from the caller's iterable only when a
worker is free, each job is dropped once its result is judged, and plans are memoised per
exercise (and grade-time seed) by :func:`quizkit.exercises.plan_exercise`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import cast

from quizkit.errors import InputError, QuizkitError
from quizkit.exercises import GradingPlan, judge, plan_exercise
from quizkit.lesson import Exercise, Lesson
from quizkit.model import frozen
from quizkit.results import ExerciseResult, GraderStatus
from quizkit.sandbox import Job, Runner, RunResult, RunStatus, Source

# A grader error's message keeps at most this much of the exception's text.
MAX_ERROR_CHARS = 300


@frozen
class Task:
    """One learner source to judge against one plan.

    ``source`` is a path (read by the runner) or a :class:`~quizkit.sandbox.Source` (bytes the caller
    read once, safely). ``key`` is the caller's own handle on the item (a learner, an index), handed
    back with the result. ``shown_as`` is the path feedback names (default: the source's path or name).
    ``uses`` are the learner's own files for the exercises the plan's exercise uses (``uses:`` in the
    lesson); they run in the learner's module first. A reference solution never does.
    """

    plan: GradingPlan
    source: Path | Source
    key: object = None
    shown_as: Path | None = None
    uses: tuple[Source, ...] = ()  # the learner's own files for the exercises this one uses

    @property
    def shown(self) -> Path:
        if self.shown_as is not None:
            return self.shown_as
        return self.source if isinstance(self.source, Path) else Path(self.source.name)


def grade_tasks(
    tasks: Iterable[Task], runner: Runner, *, lesson_id: str = "", workers: int = 2
) -> Iterator[tuple[Task, ExerciseResult]]:
    """Run and judge ``tasks`` through ``runner``, yielding (task, result) as each one finishes.

    Results come in completion order (match them by ``task.key``). A task whose run or judging
    raises inside quizkit gets a result with status :attr:`GraderStatus.GRADER_ERROR` and no points,
    and the others go on: when the runner itself raises, the jobs it had in flight are run again
    one at a time, so only a job that fails again alone is charged with the error. A
    :class:`~quizkit.errors.QuizkitError` (the sandbox cannot work here, isolation is missing), an
    exception raised by ``tasks`` itself, and one the runner raises with no job in flight stop the
    stream instead: they are not about one file.
    """
    pending = iter(tasks)
    first = next(pending, None)  # no work, no runner started (a rerun over an unchanged class)
    if first is None:
        return
    pending = itertools.chain([first], pending)
    in_flight: dict[int, tuple[Task, Job]] = {}  # by id(job): the runner holds each job meanwhile
    caller_error: list[BaseException] = []

    def jobs() -> Iterator[Job]:
        while True:
            try:
                task = next(pending)
            except StopIteration:
                return
            except BaseException as exc:
                caller_error.append(exc)
                raise
            job = task.plan.job(task.source, task.uses)
            in_flight[id(job)] = (task, job)
            yield job

    stream = runner.run_many(jobs(), workers=workers)
    try:
        while True:
            try:
                job, run = next(stream)
            except StopIteration:
                return
            except QuizkitError:
                raise
            except Exception as exc:
                if (caller_error and exc is caller_error[0]) or not in_flight:
                    raise  # not about a file: nothing was running (a runner that cannot run at all)
                stranded = list(in_flight.values())
                in_flight.clear()
                _close(stream)
                recovered = [(task, _run_alone(task, job, runner, lesson_id)) for task, job in stranded]
                stream = runner.run_many(jobs(), workers=workers)
                yield from recovered
                continue
            task, _ = in_flight.pop(id(job))
            yield task, _judged(task, run, lesson_id)
    finally:
        _close(stream)


def _close(stream: Iterator[object]) -> None:
    # Every runner returns a generator, and closing it stops the runs still under way; the Runner
    # protocol promises only an iterator, so close what can be closed.
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def _run_alone(task: Task, job: Job, runner: Runner, lesson_id: str) -> ExerciseResult:
    try:
        run = runner.run(job)
    except QuizkitError:
        raise
    except Exception as exc:
        return grader_error_result(task, exc, lesson_id)
    return _judged(task, run, lesson_id)


def _judged(task: Task, run: RunResult, lesson_id: str) -> ExerciseResult:
    try:
        return judge(task.plan, run, task.shown, lesson_id)
    except Exception as exc:  # a bug in judging must cost one file, not the batch
        return grader_error_result(task, exc, lesson_id)


def grader_error_result(task: Task, error: BaseException, lesson_id: str = "") -> ExerciseResult:
    """The result of a file that quizkit failed to grade: no points, every case not run, the reason."""
    text = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
    message = f"quizkit failed while grading this file ({text}); it was not graded, through no fault of the code"
    result = rejected_result(task.plan, task.shown, message, lesson_id)
    return replace(result, run_status=GraderStatus.GRADER_ERROR, hints=())


def rejected_result(plan: GradingPlan, shown: Path, reason: str, lesson_id: str = "") -> ExerciseResult:
    """The result of a file that was not run at all (not a regular file, unreadable, too large)."""
    return judge(plan, RunResult(RunStatus.UNREADABLE, reason, (), "", False, 0.0), shown, lesson_id)


# ---------------------------------------------------------------------------------------------
# Files: the library entry points of `quizkit submit` and `quizkit take`
# ---------------------------------------------------------------------------------------------


def exercise_for_file(lesson: Lesson, path: Path, exercise_id: str | None = None) -> Exercise:
    """The exercise ``path`` is graded as: ``exercise_id`` if given, else the file's stem.

    Raises :class:`InputError` naming the lesson's exercises when there is no such exercise.
    """
    name = exercise_id or path.stem
    exercise = lesson.exercise(name)
    if exercise is None:
        known = ", ".join(e.id for e in lesson.exercises) or "none"
        how = (
            ""
            if exercise_id
            else f" (taken from the file name {path.name}; name the file after an exercise or pass --exercise ID)"
        )
        raise InputError(f"lesson {lesson.id} has no exercise '{name}'{how}; its exercises: {known}")
    return exercise


def grade_file(lesson: Lesson, exercise: Exercise, path: Path, runner: Runner) -> ExerciseResult:
    """Grade one learner file for ``exercise``; the learner's code runs only through ``runner``."""
    return grade_many(lesson, [(exercise, path)], runner)[0]


def grade_files(
    lesson: Lesson, files: Sequence[Path], exercise_id: str | None, runner: Runner, *, workers: int = 2
) -> list[ExerciseResult]:
    """Grade learner files, one result per file in the order given.

    Every file is checked (it exists, its exercise is known) before any is run, so a usage mistake
    is reported at once rather than after grading half the files.
    """
    missing = [path for path in files if not Path(path).is_file()]
    if missing:
        raise InputError(f"no such file: {missing[0]}")
    pairs = [(exercise_for_file(lesson, Path(path), exercise_id), Path(path)) for path in files]
    return grade_many(lesson, pairs, runner, workers=workers)


def learner_uses(exercise: Exercise, path: Path) -> tuple[Source, ...]:
    """The learner's own files for the exercises ``exercise`` uses: ``<id>.py`` beside ``path``.

    Read as regular files only (a link or a FIFO there is left out); a missing one is simply not
    preloaded, and the learner's file must then define the function itself.
    """
    from quizkit.files import NotReadable, read_regular_file
    from quizkit.sandbox import MAX_SOURCE_BYTES

    found = []
    for used in exercise.uses:
        sibling = Path(path).parent / f"{used}.py"
        try:
            found.append(
                Source(sibling.name, read_regular_file(sibling, limit=MAX_SOURCE_BYTES, follow_symlinks=False))
            )
        except (OSError, NotReadable):
            continue
    return tuple(found)


def grade_many(
    lesson: Lesson, pairs: Iterable[tuple[Exercise, Path]], runner: Runner, *, workers: int = 2
) -> list[ExerciseResult]:
    """Grade (exercise, file) pairs, results in the order given; runs may overlap."""
    tasks = [
        Task(plan_exercise(exercise), path, key=index, uses=learner_uses(exercise, path))
        for index, (exercise, path) in enumerate(pairs)
    ]
    results: list[ExerciseResult | None] = [None] * len(tasks)
    for task, result in grade_tasks(tasks, runner, lesson_id=lesson.id, workers=workers):
        results[cast(int, task.key)] = result
    return [result for result in results if result is not None]
