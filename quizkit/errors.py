"""Errors a user can cause, each with the exit code the CLI turns it into.

The CLI catches :class:`QuizkitError` and prints ``format_message()`` on one line; nothing else
is caught, so a bug still shows a traceback while a user's mistake never does.

:class:`InputError` is what click calls a usage error (exit status 2: the user gave something
that cannot be used), under a name of its own so that it is never mistaken for ``click.UsageError``:
it is a :class:`QuizkitError`, printed as one line without click's usage text, and raised by library
code that does not know about click.
"""

from __future__ import annotations

from quizkit.model import frozen


class QuizkitError(Exception):
    """Base class for every error quizkit reports to a user."""

    exit_code = 2

    def format_message(self) -> str:
        return str(self)


class InputError(QuizkitError):
    """Unknown lesson or question, missing file, bad option value: a usage error, exit status 2."""

    exit_code = 2


class DeclarationError(QuizkitError, ValueError):
    """A question declares its variables wrongly (the lesson author's mistake), found while reading an answer.

    Also a ValueError, which is what callers of the answer reader caught before it had a class of its own.
    """

    exit_code = 1


class SymbolicWorkerError(QuizkitError):
    """The symbolic checking process could not be started (for example SymPy is not installed).

    The message is one line; ``details`` holds what the process wrote before it ended, for the log.
    """

    exit_code = 2

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class VariantError(QuizkitError, ValueError):
    """A variant of a question cannot be built (a course problem: ``quizkit validate`` reports it at its line)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message  # the reason alone, for validate's line


class TemplateError(VariantError):
    """A template cannot be read or filled; the message says which part and why."""


class CourseError(InputError):
    """No course directory could be found, or it is unreadable."""


@frozen(eq=True)
class Problem:
    """One problem found in a lesson file, with its position (1-based line and column)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class LessonError(QuizkitError):
    """A lesson file has problems; carries all of them, not just the first."""

    exit_code = 1

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def format_message(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in lesson file"
        return head + ":\n" + "\n".join(str(p) for p in self.problems)


class ProgressError(QuizkitError):
    """The learner's progress or workspace could not be read or written, or is in use by another session."""

    exit_code = 2
