"""Text rendering of question verdicts and prompts for the terminal."""

from __future__ import annotations

import textwrap

import click

from quizkit.lesson import AnyQuestion, ChoiceQuestion, MultiQuestion
from quizkit.questions import LETTERS, correct_answer_text
from quizkit.text import STATUS_COLOURS, WIDTH, wrap
from quizkit.verdict import Status, Verdict

_HEADLINES = {
    Status.CORRECT: "✓ Correct",
    Status.PARTIAL: "◐ Partly right",
    Status.INCORRECT: "✗ Not quite",
    Status.INVALID: "? Could not read that answer",
}


def headline(verdict: Verdict) -> str:
    label, colour = _HEADLINES[verdict.status], STATUS_COLOURS[verdict.status]
    if verdict.status is Status.INVALID:
        return click.style(label, fg=colour, bold=True) + " (not counted as an attempt)"
    score = f" ({verdict.score:g}/{verdict.max_score:g})"
    return click.style(label, fg=colour, bold=True) + score


def render_verdict(verdict: Verdict, question: AnyQuestion | None = None, order=None, reveal: bool = False) -> str:
    """Headline, how the answer was read, feedback, and (if ``reveal``) the key."""
    lines = [headline(verdict)]
    if verdict.interpreted_as:
        lines.append(f"  Read as: {verdict.interpreted_as}")
    lines.extend(wrap(line, "  ") for line in verdict.feedback if line)
    lines.extend(_caret(verdict))
    if reveal and question is not None and verdict.counts_as_attempt and not verdict.is_correct:
        answer = wrap(f"Answer: {correct_answer_text(question, order)}")
        lines.append(answer.replace("Answer:", click.style("Answer:", bold=True), 1))
    return "\n".join(lines)


def _caret(verdict: Verdict) -> list[str]:
    """The learner's answer with ``^~~~`` under the part a message is about (as packaging's
    parser errors show it); nothing when the verdict has no position."""
    from quizkit.mathparse import caret_lines

    position = verdict.details.get("position")
    if not isinstance(position, dict):
        return []
    shown = caret_lines(str(position["answer"]), (int(position["start"]), int(position["end"])))
    if shown is None:
        return []
    return [f"    {shown[0]}", "    " + click.style(shown[1], fg="yellow")]


def render_options(question: ChoiceQuestion | MultiQuestion, order) -> str:
    lines = []
    for position, index in enumerate(order):
        text = textwrap.fill(question.options[index].text, WIDTH, initial_indent="", subsequent_indent="     ")
        lines.append(f"  {LETTERS[position]}) {text}")
    return "\n".join(lines)
