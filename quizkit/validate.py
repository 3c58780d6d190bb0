"""``quizkit validate``: everything an instructor must fix before learners see a lesson.

Checks, in order, each reported with ``file:line:col``:

1. *lesson file*: the loader's own checks (schema, unknown keys, types, duplicate ids, one correct
   choice option, finite numeric keys, starter files present). Nothing below runs on a file with
   problems here, because the lesson model is not built then.
2. *answer keys*: every symbolic key parses under its declared variables, and no listed wrong
   answer is equivalent to its key (SymPy, in :mod:`quizkit.symbolic`'s worker).
3. per exercise: the reference exists; the random cases are reproducible from their seeds; the
   reference gets full marks and the starter does not, both judged exactly as a learner's file is;
   and no mutant of the reference survives the cases (:mod:`quizkit.mutants`).

The result is plain data (:class:`LessonReport`); :mod:`quizkit.report` renders it as text or json.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from quizkit.course import LESSON_FILE, Course
from quizkit.errors import InputError, Problem
from quizkit.text import plural

if TYPE_CHECKING:
    from quizkit.exercises import ExerciseResult, GradingPlan, GroupResult
    from quizkit.lesson import Exercise, Lesson, SymbolicQuestion
    from quizkit.rawyaml import Positions
    from quizkit.sandbox import Runner
    from quizkit.symbolic import SymbolicChecker


@dataclass(frozen=True)
class ValidateOptions:
    """What to check and with how much parallelism."""

    mutants: bool = True
    workers: int = 2
    warn: Callable[[str], None] | None = None  # told once if the sandbox isolates less than it could


@dataclass(frozen=True)
class LessonTarget:
    """A lesson file to check and the folder of its reference solutions (None: the course layout)."""

    path: Path
    solutions_dir: Path | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check of one lesson."""

    name: str
    summary: str  # one line: what was checked, or why it could not run
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # information that is not a problem (mutants judged equivalent)
    ran: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class LessonReport:
    """Every check of one lesson file."""

    path: Path
    lesson_id: str | None
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(problem for check in self.checks for problem in check.problems)


# ---------------------------------------------------------------------------------------------
# Which files
# ---------------------------------------------------------------------------------------------


def lesson_targets(paths: Sequence[Path], course: Course | None) -> list[LessonTarget]:
    """The lessons named on the command line (lesson.yaml or its folder), or every lesson of ``course``."""
    if not paths:
        if course is None:
            raise InputError("no lesson given and no course found")
        ids = course.lesson_ids()
        if not ids:
            raise InputError(f"no lessons found in {course.exercises_dir}")
        return [LessonTarget(_shown(course.lesson_path(i)), _shown(course.solutions_for(i))) for i in ids]
    targets = []
    for path in paths:
        file = path / LESSON_FILE if path.is_dir() else path
        if not file.is_file():
            raise InputError(f"{path}: no such lesson file" + (f" (looked for {file})" if file != path else ""))
        targets.append(LessonTarget(file))
    return targets


def _shown(path: Path) -> Path:
    """``path`` relative to the current folder when it is inside it: shorter, clickable problems."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


# ---------------------------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------------------------


class _Tools:
    """The worker processes the checks share, started on first use and stopped at the end."""

    def __init__(
        self, stack: ExitStack, workers: int, warn: Callable[[str], None] | None = None, runner: Runner | None = None
    ) -> None:
        self._stack = stack
        self.workers = workers  # jobs run at a time in the sandbox
        self._warn = warn
        self._runner: Runner | None = runner
        self._symbolic: SymbolicChecker | None = None

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            from quizkit.sandbox import SubprocessRunner

            runner = self._stack.enter_context(SubprocessRunner(isolation="preferred"))
            if runner.warning and self._warn is not None:
                self._warn(runner.warning)
            self._runner = runner
        return self._runner

    @property
    def symbolic(self) -> SymbolicChecker:
        if self._symbolic is None:
            from quizkit.symbolic import SymbolicChecker

            # No spare worker: a spare saves a learner the wait for SymPy after a killed check, but
            # here it would load SymPy a second time on every run, beside the sandbox's work, for a
            # kill that a lesson's keys rarely cause (the check after one then waits for a new worker).
            self._symbolic = self._stack.enter_context(SymbolicChecker(spare=False))
        return self._symbolic


def validate_lessons(
    targets: Sequence[LessonTarget], options: ValidateOptions = ValidateOptions(), runner: Runner | None = None
) -> list[LessonReport]:
    """Check every lesson in ``targets``; problems are returned in the reports, never raised.

    References, starters and mutants run through ``runner`` (default: a SubprocessRunner, started on
    first use; tests of trusted lessons may pass an InProcessRunner or a MockRunner).
    """
    with ExitStack() as stack:
        tools = _Tools(stack, options.workers, options.warn, runner)
        return [_validate_one(target, options, tools) for target in targets]


def _validate_one(target: LessonTarget, options: ValidateOptions, tools: _Tools) -> LessonReport:
    from quizkit.lesson import SymbolicQuestion, read_lesson

    lesson, problems = read_lesson(target.path, target.solutions_dir)
    loaded = CheckResult(
        "lesson file",
        "schema, ids, options, numeric keys, starter files" if not problems else f"{len(problems)} problem(s)",
        tuple(problems),
    )
    if lesson is None:
        skipped = CheckResult("other checks", "not run: fix the lesson file first", ran=False)
        return LessonReport(target.path, None, (loaded, skipped))
    # The positions the loader composed (from the cache or not): the file is not read again.
    positions = lesson.positions
    assert positions is not None, "read_lesson keeps the positions of every lesson it builds"
    checks = [loaded]
    symbolic = [q for q in lesson.questions if isinstance(q, SymbolicQuestion) and not q.parameters]
    if symbolic:
        checks.append(_check_symbolic_keys(symbolic, lesson, positions, tools.symbolic))
    if any(q.parameters for q in lesson.questions):
        from quizkit.variant_checks import check_variants

        summary, found = check_variants(lesson, positions, lambda: tools.symbolic)
        checks.append(CheckResult("variants", summary, found))
    for index, exercise in enumerate(lesson.exercises):
        checks.extend(_check_exercise(exercise, index, lesson, positions, options, tools))
    return LessonReport(target.path, lesson.id, tuple(checks))


def _check_symbolic_keys(
    questions: list[SymbolicQuestion], lesson: Lesson, positions: Positions, checker: SymbolicChecker
) -> CheckResult:
    """Each key parses, and no wrong answer equals its key; problems point at the key or wrong answer."""
    from quizkit.questions import symbolic_key_problems

    problems: list[Problem] = []
    for question in questions:
        where = ("questions", lesson.order.index(question.id))  # its place in the file's list (readings included)
        for keys, message in symbolic_key_problems(question, checker):
            problems.append(positions.problem(message, *where, *keys))
    count = len(questions)
    return CheckResult("answer keys", plural(count, "symbolic key"), tuple(problems))


# ---------------------------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------------------------


def _check_exercise(
    exercise: Exercise, index: int, lesson: Lesson, positions: Positions, options: ValidateOptions, tools: _Tools
) -> Iterator[CheckResult]:
    """Reference, random cases, starter and mutants of one exercise (one result each)."""
    from quizkit.exercises import ReferenceSolutionError, plan_exercise

    where = ("exercises", index)
    name = exercise.id
    yield _check_reproducible(exercise, positions, where)
    if not exercise.reference.is_file():
        problem = positions.problem(f"reference solution not found: {exercise.reference}", *where, "reference")
        yield CheckResult(f"{name}: reference", "missing", (problem,))
        return
    try:
        plan = plan_exercise(exercise)
    except ReferenceSolutionError as error:
        yield CheckResult(f"{name}: reference", "does not run", (positions.problem(str(error), *where),))
        return
    reference, starter = _judge_reference_and_starter(plan, lesson, tools)
    failed_groups = [(number, group) for number, group in enumerate(reference.groups) if not group.passed]
    yield CheckResult(
        f"{name}: reference",
        f"passes {plural(len(plan.groups), 'case group')} ({plural(len(plan.calls), 'call')}) in the sandbox"
        if not failed_groups
        else f"fails {len(failed_groups)} of {len(plan.groups)} case groups in the sandbox",
        tuple(_reference_problem(group, number, exercise, positions, where) for number, group in failed_groups),
    )
    starter_problems: tuple[Problem, ...] = ()
    if starter.is_correct:
        message = f"the starter file {exercise.starter} already gets full marks; learners could hand it in unchanged"
        starter_problems = (positions.problem(message, *where, "starter"),)
    yield CheckResult(
        f"{name}: starter",
        f"fails ({starter.score:g}/{starter.max_score:g})" if not starter.is_correct else "passes",
        starter_problems,
    )
    if not options.mutants:
        yield CheckResult(f"{name}: mutants", "not run (--no-mutants)", ran=False)
    elif failed_groups:
        yield CheckResult(f"{name}: mutants", "not run: the reference must pass first", ran=False)
    else:
        yield _mutation_check(plan, tools)


def _check_reproducible(exercise: Exercise, positions: Positions, where: tuple[str, int]) -> CheckResult:
    """Materialise the random blocks twice and compare the bytes of every argument."""
    from quizkit.exercises import draw_random_cases

    problems = []
    for number, block in enumerate(exercise.random):
        first, second = (_argument_bytes(draw_random_cases(block, exercise.parameters)) for _ in range(2))
        if first != second:
            message = f"random block '{block.name}' draws different values from the same seed"
            problems.append(positions.problem(message, *where, "random", number))
    count = len(exercise.random)
    if problems:
        summary = "not reproducible"
    elif count:
        summary = f"{plural(count, 'block')}, each reproducible from its seed"
    else:
        summary = "none in this exercise"
    return CheckResult(f"{exercise.id}: random cases", summary, tuple(problems))


def _argument_bytes(draws: list[tuple[object, ...]]) -> bytes:
    import numpy as np

    parts = []
    for args in draws:
        for value in args:
            array = np.asarray(value)
            parts += [
                type(value).__name__.encode(),
                array.dtype.str.encode(),
                repr(array.shape).encode(),
                array.tobytes(),
            ]
    return b"\0".join(parts)


def _judge_reference_and_starter(
    plan: GradingPlan, lesson: Lesson, tools: _Tools
) -> tuple[ExerciseResult, ExerciseResult]:
    """Both files judged exactly like a learner's, in parallel."""
    from quizkit.grading import Task, grade_tasks

    exercise = plan.exercise
    # The instructor's own files: the reference runs beside the references of the exercises it uses.
    tasks = [
        Task(plan, exercise.reference, key="reference", uses=plan.preload),
        Task(plan, exercise.starter, key="starter", uses=plan.preload),
    ]
    judged = {
        task.key: result
        for task, result in grade_tasks(tasks, tools.runner, lesson_id=lesson.id, workers=tools.workers)
    }
    return judged["reference"], judged["starter"]


def _reference_problem(
    group: GroupResult, number: int, exercise: Exercise, positions: Positions, where: tuple[str, int]
) -> Problem:
    """A failing group, placed at its case (groups are the explicit cases, then the random blocks)."""
    from quizkit.report import group_summary

    explicit = len(exercise.cases)
    at = ("cases", number) if number < explicit else ("random", number - explicit)
    return positions.problem(f"the reference fails '{group.name}': {group_summary(group)}", *where, *at)


def _mutation_check(plan: GradingPlan, tools: _Tools) -> CheckResult:
    from quizkit.mutants import check_mutants

    report = check_mutants(plan, tools.runner, workers=tools.workers)
    survivors = report.survivors
    problems = tuple(Problem(str(report.reference), v.mutant.line, v.mutant.column, v.message) for v in survivors)
    total = len(report.verdicts)
    summary = f"{len(report.killed)} of {total} mutants caught"
    if survivors:
        summary += f", {len(survivors)} survive the cases"
    if report.equivalent:
        summary += f", {len(report.equivalent)} equivalent (ignored)"
    return CheckResult(
        f"{plan.exercise.id}: mutants", summary, problems, tuple(report.describe(v) for v in report.equivalent)
    )
