"""The ``quizkit`` console script: start what the command will wait for, then run the CLI.

A submission's time is mostly the fork server's start-up (numpy's import, inside the sandbox). The
server does not depend on anything the command line parser or the lesson provides, so when the
words on the command line say ``submit`` it is started here, before click and quizkit's own modules
are imported; the command then takes that runner (see :func:`quizkit.sandbox.prestarted`).
Anything unexpected on the command line means no early start: the command starts its own server
as before, and click reports the mistake.
"""

from __future__ import annotations

import sys

# Options of the `quizkit` group that take a value: the word after them is not the command.
_GROUP_OPTIONS_WITH_VALUE = frozenset({"--course"})
_HELP = frozenset({"-h", "--help", "--version"})


def command_word(argv: list[str]) -> str | None:
    """The sub-command named by ``argv`` (the arguments after the program name), or None when
    the words ask for help or cannot be read without click."""
    if any(word in _HELP for word in argv):
        return None
    words = iter(argv)
    for word in words:
        if word in _GROUP_OPTIONS_WITH_VALUE:
            next(words, None)
        elif word.startswith("-"):
            if word.split("=", 1)[0] not in _GROUP_OPTIONS_WITH_VALUE:
                return None  # an option this reading does not know: leave everything to click
        else:
            return word
    return None


def run() -> None:
    """Start the fork server for ``submit`` at once, then hand over to :func:`quizkit.cli.run`."""
    if command_word(sys.argv[1:]) == "submit":
        from quizkit.sandbox import prestart

        prestart(isolation="preferred")
    from quizkit.cli import run as run_cli

    run_cli()
