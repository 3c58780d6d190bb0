"""State shared by every command: the course option, resolved lazily to a course and lessons."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from quizkit.course import Course


class AppState:
    """Options shared by every command."""

    def __init__(self, course_option: str | None) -> None:
        self.course_option = course_option
        self._course: Course | None = None

    @property
    def course(self) -> Course:  # imported lazily, like everything below
        from quizkit.course import find_course

        if self._course is None:
            self._course = find_course(self.course_option)
        return self._course

    def lesson(self, lesson_id: str):
        from quizkit.lesson import load_lesson

        course = self.course
        # Formulas are read where they are used (a variant, a plot), so commands start fast.
        return load_lesson(course.lesson_path(lesson_id), course.solutions_for(lesson_id), formulas=False)


pass_state = click.make_pass_decorator(AppState)


def warn(text: str) -> None:
    """One warning line on stderr, worded the same by every command."""
    click.echo(f"quizkit: warning: {text}", err=True)


COURSE_HELP = (
    "Course folder holding exercises/ (default: $QUIZKIT_COURSE, the current folder or a parent, "
    "then the course bundled with quizkit)."
)


def _remember_course(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(AppState).course_option = value


# Accepted after the command too (`quizkit take lesson3 --course DIR`), as users tend to write it.
course_option = click.option("--course", metavar="DIR", expose_value=False, callback=_remember_course, help=COURSE_HELP)
