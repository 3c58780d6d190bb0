"""Instructor commands: ``quizkit validate``, ``quizkit schema`` and ``quizkit grade``.

Only click is imported here; the work (and numpy, sympy, the sandbox) lives in :mod:`quizkit.validate`
and :mod:`quizkit.grade`, imported when a command runs, so ``quizkit --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quizkit.appstate import AppState, course_option, warn
from quizkit.errors import InputError

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar


@click.command()
@click.argument("paths", nargs=-1, metavar="[PATH]...", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--no-mutants",
    "skip_mutants",
    is_flag=True,
    help="Skip the mutation check (the slowest part).",
)
@course_option
@click.pass_obj
def validate(state: AppState, paths: tuple[Path, ...], as_json: bool, skip_mutants: bool) -> None:
    """Check lesson files: schema, answer keys, references, starters and test cases.

    PATH is a lesson.yaml or a lesson folder; without PATH every lesson of the course is checked.
    Problems are printed as file:line:col: message. The mutation check makes small bugs in each
    reference solution and reports any that pass every case: that case is missing from the lesson.
    Exit status 0 when everything is clean, 1 when a problem was found.
    """
    from quizkit.report import render_validate_text, validate_to_json
    from quizkit.validate import ValidateOptions, lesson_targets, validate_lessons

    for path in paths:
        _check_lesson_path(path)
    targets = lesson_targets(list(paths), state.course if not paths else None)
    reports = validate_lessons(targets, ValidateOptions(mutants=not skip_mutants, warn=warn))
    if as_json:
        click.echo(json.dumps(validate_to_json(reports), indent=2, ensure_ascii=False))
    else:
        click.echo(render_validate_text(reports))  # click drops the colours when stdout is not a terminal
    raise click.exceptions.Exit(0 if all(report.ok for report in reports) else 1)


def _check_lesson_path(path: Path) -> None:
    """One line and exit 2 for a lesson path that is neither a lesson file nor a folder holding one."""
    from quizkit.course import LESSON_FILE
    from quizkit.files import describe_mode, stat_argument
    from quizkit.text import shorten

    info = stat_argument(path, "lesson path")
    if info is not None and stat.S_ISDIR(info.st_mode):
        path = path / LESSON_FILE
        info = stat_argument(path, "lesson file")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise InputError(f"{shorten(str(path))} is {describe_mode(info.st_mode)}, not a lesson file")


@click.command()
def schema() -> None:
    """Print the JSON Schema of lesson files.

    Editors that read `# yaml-language-server: $schema=...` (VS Code's YAML extension, for one) use
    it for completion and inline checking; the lessons point at quizkit/lesson.schema.json.
    """
    from quizkit.lesson_schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@click.command()
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--lesson", "lesson_id", required=True, metavar="LESSON", help="The lesson whose exercises are graded.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("grades.csv"),
    show_default=True,
    help="Gradebook CSV; per-learner feedback goes to feedback/ next to it.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Files graded in parallel (default: number of CPUs).",
)
@click.option("--restart", is_flag=True, help="Grade every file again instead of resuming.")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Grade-time seed for the random cases, one learners do not know (default: the course's "
    "solutions/grade_seed if it has one, else the lesson's own seeds).",
)
@click.option(
    "--no-isolation",
    is_flag=True,
    help="Grade even where the OS isolation (namespaces, Landlock) is missing: learner code then runs "
    "with process limits only.",
)
@course_option
@click.pass_obj
def grade(
    state: AppState,
    directory: Path,
    lesson_id: str,
    out: Path,
    jobs: int | None,
    restart: bool,
    seed: int | None,
    no_isolation: bool,
) -> None:
    """Grade every learner's exercise files in DIR.

    \b
    DIR holds one folder per learner (DIR/alice/soft_threshold.py) or files named
    learner__exercise.py (DIR/alice__soft_threshold.py). Writes the gradebook CSV (one row per
    learner), a JSON feedback file per learner in feedback/ next to it, and a state file that lets an
    interrupted run resume: files already graded and unchanged are not run again. Links, special
    files and unreadable files are never opened: each is a row with 0 points and a note.
    """
    from quizkit.files import describe_mode, stat_argument
    from quizkit.grade import GradeOptions, course_grade_seed, default_runner, grade_directory, state_path
    from quizkit.text import shorten

    info = stat_argument(directory, "folder")
    if info is None or not stat.S_ISDIR(info.st_mode):
        kind = "no such folder" if info is None else f"it is {describe_mode(info.st_mode)}"
        raise InputError(f"{shorten(str(directory))}: not a directory ({kind})")
    out_info = stat_argument(out, "gradebook")
    if out_info is not None and not stat.S_ISREG(out_info.st_mode):
        raise InputError(f"--out {shorten(str(out))} is {describe_mode(out_info.st_mode)}, not a file")
    if seed is None:
        seed = course_grade_seed(state.course.solutions_dir)
    options = GradeOptions(
        jobs=jobs or os.cpu_count() or 1,
        restart=restart,
        seed=seed,
        isolation="off" if no_isolation else "required",
    )
    from quizkit.sandbox import IsolationUnavailable

    # A first run (no state to resume from) runs every file: its workers start now and come up while
    # the lesson loads and the class is read, instead of being waited for at the first file. A re-run
    # may find nothing changed, and starts them only if it needs them (grade_directory's own runner).
    state.course.lesson_path(lesson_id)  # an unknown lesson is reported before any worker starts
    runner = None
    try:
        try:
            if restart or not state_path(out).exists():
                runner = default_runner(options)
                start = getattr(runner, "start", None)  # (a test's stand-in runner has nothing to start)
                if start is not None:
                    start(options.jobs)
            lesson = state.lesson(lesson_id)
            summary = grade_directory(lesson, directory, out, options, progress=_ProgressBar(), runner=runner)
        finally:  # inside the handlers below: Ctrl-C while the workers stop is an interrupt like any other
            close = getattr(runner, "close", None)
            if close is not None:
                close()
    except IsolationUnavailable as exc:
        # The refusal is one line whatever the explanation's wording (exit status 2, like any SandboxError).
        raise InputError(" ".join(exc.format_message().split())) from exc
    except KeyboardInterrupt:
        click.echo(
            f"\nquizkit: interrupted; what was graded is saved in {state_path(out)}: run the same command to resume",
            err=True,
        )
        raise click.exceptions.Exit(130) from None
    for warning in summary.warnings:
        warn(warning)
    click.echo(summary.describe())


class _ProgressBar:
    """Adapts click's progress bar (on stderr) to the callbacks of :func:`quizkit.grade.grade_directory`."""

    def __init__(self) -> None:
        self._open = ExitStack()
        self._bar: ProgressBar[int] | None = None
        self._total = 0

    def start(self, total: int) -> None:
        # Drawn at the first file done: a run that stops before that (isolation refused, say) ends
        # in its one error line, not under a progress bar.
        self._total = total

    def advance(self) -> None:
        if self._bar is None:
            bar = click.progressbar(length=self._total, label="grading", file=sys.stderr, show_pos=True)
            self._bar = self._open.enter_context(bar)
        self._bar.update(1)

    def finish(self) -> None:
        self._open.close()
        self._bar = None


@click.command()
@course_option
@click.pass_obj
def doctor(state: AppState) -> None:
    """Say which isolation layers protect this machine from learner code, and why others are off.

    Starts a real sandbox and runs a probe in it that tries to read your home folder and the course,
    open a TCP port and signal quizkit. Exits 0 when 'quizkit grade' can run isolated, 1 when not.
    """
    from quizkit.errors import CourseError
    from quizkit.isolation import diagnose

    try:
        course_root: str | None = str(state.course.root)
    except CourseError:
        course_root = None
    diagnosis = diagnose(course_root)
    click.echo(diagnosis.describe())
    if not diagnosis.grade_ready or diagnosis.leaks:
        raise click.exceptions.Exit(1)


COMMANDS = [validate, schema, grade, doctor]
