"""Small text helpers shared by the terminal renderers (kept light: `quizkit list` imports them)."""

from __future__ import annotations

import textwrap

from quizkit.verdict import Status

WIDTH = 88

# The colour of an outcome wherever it is shown: a question's verdict or an exercise's result.
STATUS_COLOURS = {Status.CORRECT: "green", Status.PARTIAL: "yellow", Status.INCORRECT: "red", Status.INVALID: "yellow"}


def plural(count: int, noun: str) -> str:
    """``1 question``, ``2 questions``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def wrap(text: str, indent: str = "  ") -> str:
    """Wrap each paragraph of ``text`` to the terminal width, keeping blank lines between them."""
    paragraphs = [p.strip() for p in text.split("\n\n")]
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), WIDTH, initial_indent=indent, subsequent_indent=indent)
        for p in paragraphs
        if p
    )


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut in the middle to at most ``limit`` characters, so one line stays one line."""
    text = text.replace("\n", " ")
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: keep - keep // 3] + "…" + text[len(text) - keep // 3 :]
