"""The ``quizkit`` console script: start what the command will wait for, then run the CLI.

Numerical libraries get one thread (see ``_ONE_MATH_THREAD``) before anything imports numpy.

A submission's time is mostly the fork server's start-up (numpy's import, inside the sandbox). The
server does not depend on anything the command line parser or the lesson provides, so when the
words on the command line say ``submit`` it is started here, before click and quizkit's own modules
are imported; the command then takes that runner (see :func:`quizkit.sandbox.prestarted`).
Anything unexpected on the command line means no early start: the command starts its own server
as before, and click reports the mistake.
"""

from __future__ import annotations

import os
import sys

# quizkit's own numpy work is on small arrays (expected values, a learner's results), where BLAS
# threads gain nothing; OpenBLAS would start one per core at numpy's import and keep them spinning on
# the cores the fork servers and learner processes need. A value the user set is kept.
_ONE_MATH_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

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
    for name in _ONE_MATH_THREAD:
        os.environ.setdefault(name, "1")
    if command_word(sys.argv[1:]) == "submit":
        from quizkit.sandbox import prestart

        prestart(isolation="preferred")
    from quizkit.cli import run as run_cli

    run_cli()
