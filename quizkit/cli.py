"""The ``quizkit`` command line: parse options, call the library, render.

Heavy modules (numpy, sympy, the sandbox) are imported inside the commands that need them so that
``quizkit --help`` and ``quizkit list`` start fast.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from quizkit import __version__
from quizkit.appstate import COURSE_HELP, AppState, course_option, pass_state, warn
from quizkit.errors import InputError, QuizkitError
from quizkit.text import shorten

# Answers that cannot be symbolic: option letters (a, "a,c", "(b)") and plain numbers.
_LETTERS_OR_NUMBER = re.compile(
    r"[\s(),;]*[A-Za-z](?:[\s(),;]+[A-Za-z])*[\s(),;.]*|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
)


class QuizkitGroup(click.Group):
    """Turns every :class:`QuizkitError` into one clear line on stderr and its exit code.

    An OS error about a path that no command turned into a message of its own (a name longer than
    the system allows, a folder without permission, ...) is a problem with what the user gave or
    with the machine, not a bug, so it gets one line and exit 2 as well.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QuizkitError as exc:
            fail(exc)
        except OSError as exc:
            if exc.filename is None:
                raise
            fail(InputError(f"{shorten(str(exc.filename))}: {exc.strerror or exc}"))


def fail(exc: QuizkitError) -> NoReturn:
    click.echo(f"quizkit: error: {exc.format_message()}", err=True)
    raise click.exceptions.Exit(exc.exit_code)


def run() -> None:
    """The ``quizkit`` console script: :func:`main`, then leave at once.

    Everything a command promises is on disk (written and fsynced) and on the terminal (flushed)
    before it returns, so the process ends with ``os._exit``: it waits neither for helper processes
    (fork servers and SymPy workers end by themselves when their pipes close) nor for the
    interpreter's teardown of numpy and SymPy. Tests call :func:`main` itself.
    """
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (quizkit list | head): nothing more to say
            code = code or 1
    os._exit(code)


@click.group(cls=QuizkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--course", metavar="DIR", help=COURSE_HELP)
@click.version_option(__version__, prog_name="quizkit")
@click.pass_context
def main(ctx: click.Context, course: str | None) -> None:
    """Auto-graded quizzes and coding exercises in the terminal.

    \b
    Learners:     quizkit list, quizkit take lesson3, quizkit submit lesson3 soft_threshold.py
    Instructors:  quizkit validate, quizkit grade DIR --lesson lesson3, quizkit schema
    """
    ctx.obj = AppState(course)


@main.command("list")
@course_option
@pass_state
def list_lessons(state: AppState) -> None:
    """List the lessons with their question and exercise counts and your progress.

    Exit status 0, or 1 when a lesson has problems (run quizkit validate to see them).
    """
    from quizkit import lessoncache
    from quizkit.progress import ProgressStore
    from quizkit.text import plural

    course = state.course
    store = ProgressStore.default()
    lesson_ids = course.lesson_ids()
    click.echo(f"Course: {course.root} ({course.source})")
    if not lesson_ids:
        click.echo("No lessons found.")
        return
    broken = 0
    for lesson_id in lesson_ids:
        path, solutions = course.lesson_path(lesson_id), course.solutions_for(lesson_id)
        lesson = lessoncache.load_summary(path, solutions)
        if lesson is None:
            from quizkit.lesson import read_lesson

            loaded, problems = read_lesson(path, solutions, formulas=False)
            if loaded is None:
                broken += 1
                message = f"has {len(problems)} problem(s): run quizkit validate"
                click.echo(f"  {lesson_id:<12} " + click.style(message, fg="red"))
                continue
            lessoncache.store_summary(path, solutions, loaded)
            lesson = lessoncache.LessonSummary.of(loaded)
        counts = f"{plural(lesson.question_count, 'question')}, {plural(lesson.exercise_count, 'exercise')}"
        if lesson.reading_count:  # reading items are not scored, so they are counted apart
            counts += f", {plural(lesson.reading_count, 'reading')}"
        progress = store.peek(lesson)
        click.echo(f"  {lesson_id:<12} {lesson.title}  [{counts}]  {progress}")
    if broken:
        raise click.exceptions.Exit(1)


# An answer may start with "-" (-0.03, "-2λw"): check takes options it does not know as words of
# the answer instead of refusing them, and its own options (--json, --course, --help) still work.
@main.command(context_settings={"ignore_unknown_options": True})
@course_option
@click.argument("lesson_id", metavar="LESSON")
@click.argument("question_id", metavar="QID")
@click.argument("answer_words", metavar="ANSWER", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.option("--seed", type=int, help="Check against the variant a learner with this seed gets.")
@click.option(
    "--variant",
    type=click.IntRange(min=0),
    help="Check against this variant (0, 1, ...) of a question with parameters.",
)
@pass_state
def check(
    state: AppState,
    lesson_id: str,
    question_id: str,
    answer_words: tuple[str, ...],
    as_json: bool,
    seed: int | None,
    variant: int | None,
) -> None:
    """Grade one ANSWER to question QID of LESSON, without a session.

    Choice questions take the option letter in the order the lesson file lists them (a, b, ...);
    multi questions take several letters (a,c); numeric questions a number; symbolic questions an
    expression such as "2λw". An answer may start with a minus sign (quizkit check lesson3 QID
    -0.03); write -- before an answer that is spelled like an option of check itself
    (quizkit check lesson3 QID -- --json).
    """
    answer = " ".join(answer_words)
    # SymPy's import is most of a symbolic check's time: start the worker before anything else,
    # so it loads while this process imports its own modules and reads the lesson.
    checker = _early_symbolic_checker(answer)
    try:
        from quizkit.lesson import SymbolicQuestion
        from quizkit.questions import judge
        from quizkit.render import render_verdict

        lesson = state.lesson(lesson_id)
        question = lesson.question(question_id)
        if question is None:
            known = ", ".join(q.id for q in lesson.questions) or "none"
            raise InputError(f"unknown question '{question_id}' in {lesson_id} (questions: {known})")
        from quizkit.variants import chosen_variant, resolve

        index = chosen_variant(question, seed, variant)
        question = resolve(question, index)
        if checker is None and isinstance(question, SymbolicQuestion):
            checker = _early_symbolic_checker(answer, force=True)
        verdict = judge(question, answer, symbolic=checker)
    except BaseException:
        if checker is not None:
            checker.close(grace=0.0)
        raise
    if checker is not None:
        if isinstance(question, SymbolicQuestion):
            # The worker exits by itself when its input closes; waiting for it would only delay
            # the learner's prompt.
            checker.close(wait=False)
        else:
            checker.close(grace=0.0)  # started on a guess that proved wrong: stop it now
    if as_json:
        shown = {"variant": question.variant} if question.variant is not None else {}
        click.echo(
            json.dumps(
                {"lesson": lesson.id, "question": question.id, **shown, **verdict.to_dict()},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        click.echo(render_verdict(verdict, question))
    raise click.exceptions.Exit(0 if verdict.is_correct else 1)


def _early_symbolic_checker(answer: str, *, force: bool = False) -> Any:
    """A started one-shot SymbolicChecker, unless ``answer`` is plainly an option letter or a number."""
    if not force and _LETTERS_OR_NUMBER.fullmatch(answer.strip()):
        return None
    from quizkit.symbolic import SymbolicChecker

    checker = SymbolicChecker(spare=False, warm_up=False)
    checker.start()
    return checker


@main.command()
@course_option
@click.argument("lesson_id", metavar="LESSON")
@click.option("--restart", is_flag=True, help="Forget saved progress and start the lesson over.")
@click.option(
    "--seed", type=int, help="Seed for the option order and the variants (default: one per learner, kept in progress)."
)
@click.option("--no-plots", is_flag=True, help="Do not draw plots.")
@pass_state
def take(state: AppState, lesson_id: str, restart: bool, seed: int | None, no_plots: bool) -> None:
    """Work through LESSON: questions one at a time, then the coding exercises.

    Type the answer and press Enter; 'h' shows a hint, 's' skips, 'q' saves and quits. Progress is
    saved after every answer, and the next 'take' resumes where you stopped. Works with piped input
    too (one answer per line).
    """
    from quizkit.progress import ProgressStore
    from quizkit.session import Session, TerminalIO

    lesson = state.lesson(lesson_id)
    store = ProgressStore.default()
    session = Session(lesson, store, TerminalIO(), restart=restart, seed=seed, course=state.course, plots=not no_plots)
    raise click.exceptions.Exit(session.run())


@main.command()
@course_option
@click.argument("args", nargs=-1, required=True, metavar="[LESSON] FILE...")
@click.option(
    "--exercise", "exercise_id", metavar="ID", help="Exercise to grade the files as (default: each file's name)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "gradescope", "junit"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--no-plots",
    is_flag=True,
    help="With --format text: do not draw your function against the reference (drawn when it is not right).",
)
@pass_state
def submit(state: AppState, args: tuple[str, ...], exercise_id: str | None, fmt: str, no_plots: bool) -> None:
    """Grade exercise files; exits 0 only when every file gets full marks.

    The exercise is taken from --exercise or from the file name (soft_threshold.py). LESSON may be
    left out when the exercise name is unique in the course.
    """
    from quizkit.files import require_regular_file
    from quizkit.sandbox import prestarted

    # The fork server's start-up (numpy's import, in the sandbox) is most of a submission's time: the
    # console script started it before anything else (quizkit.console), so that it overlaps this
    # process's own imports, the lesson's loading and planning; otherwise it starts here, first.
    with prestarted(isolation="preferred") as runner:
        lesson_id, files = _split_submit_args(state, args)
        for file in files:
            require_regular_file(file)
        if lesson_id is None:
            lesson_id = _lesson_for_exercise(state, exercise_id or files[0].stem)
        lesson = state.lesson(lesson_id)

        from quizkit.grading import grade_files
        from quizkit.report import render

        results = grade_files(lesson, files, exercise_id, runner)
        if runner.warning:
            warn(runner.warning)
        click.echo(render(results, fmt, color=sys.stdout.isatty()))
        if fmt == "text" and not no_plots:
            from quizkit.grading import exercise_for_file
            from quizkit.sweeps import render_sweep, worth_drawing

            for file, result in zip(files, results, strict=True):
                exercise = exercise_for_file(lesson, file, exercise_id)
                if worth_drawing(exercise, result):
                    click.echo(render_sweep(exercise, file, runner, color=sys.stdout.isatty()))
        runner.abandon()  # the servers end by themselves; the result need not wait for them
    raise click.exceptions.Exit(0 if all(r.is_correct for r in results) else 1)


def _split_submit_args(state: AppState, args: tuple[str, ...]) -> tuple[str | None, list[Path]]:
    first = args[0]
    # lexists is False for a name the system cannot hold (too long): then it is no file either.
    if not os.path.lexists(first) and not first.endswith(".py"):
        if len(args) == 1:
            raise InputError(f"no files to grade after lesson '{shorten(first, 40)}'")
        state.course.lesson_path(first)  # raises a clear error for an unknown lesson
        return first, [Path(a) for a in args[1:]]
    return None, [Path(a) for a in args]


def _lesson_for_exercise(state: AppState, exercise_id: str) -> str:
    """The one lesson that has an exercise called ``exercise_id``."""
    from quizkit.lesson import read_lesson

    course = state.course
    owners = []
    for lesson_id in course.lesson_ids():
        lesson, _ = read_lesson(course.lesson_path(lesson_id), course.solutions_for(lesson_id), formulas=False)
        if lesson is not None and lesson.exercise(exercise_id) is not None:
            owners.append(lesson_id)
    if len(owners) == 1:
        return owners[0]
    if not owners:
        raise InputError(f"no lesson has an exercise '{exercise_id}'; name the lesson: quizkit submit LESSON FILE...")
    raise InputError(f"several lessons have an exercise '{exercise_id}' ({', '.join(owners)}); name the lesson first")


def _add_instructor_commands() -> None:
    from quizkit.instructor_cli import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_add_instructor_commands()
