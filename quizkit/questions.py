"""Judging answers to questions. Pure policy: answer text in, :class:`Verdict` out.

Choice and multi questions are answered by letter. The letters follow ``order`` (the shuffled order
the learner saw) or, when no order is given, the order of the lesson file.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

from quizkit.lesson import (
    AnyQuestion,
    ChoiceQuestion,
    MultiQuestion,
    NumericQuestion,
    Option,
    SymbolicQuestion,
)
from quizkit.verdict import Status, Verdict

if TYPE_CHECKING:
    from quizkit.symbolic import SymbolicChecker

LETTERS = string.ascii_lowercase
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_FRACTION = re.compile(r"^([-+]?\d+)\s*/\s*(\d+)$")
MAX_ANSWER_LENGTH = 500


def option_order(question: ChoiceQuestion | MultiQuestion, seed: int | None) -> tuple[int, ...]:
    """Indices of the options in the order a learner sees them (shuffled per seed if allowed)."""
    indices = list(range(len(question.options)))
    if seed is not None and question.shuffle:
        import random

        # The question id is part of the seed so that every question gets its own order.
        random.Random(f"{seed}:{question.id}").shuffle(indices)
    return tuple(indices)


def judge(
    question: AnyQuestion,
    answer: str,
    *,
    order: Sequence[int] | None = None,
    symbolic: "SymbolicChecker | None" = None,
) -> Verdict:
    """Judge ``answer`` to ``question``. Never raises on learner input."""
    answer = answer.strip()
    if not answer:
        return _invalid(question, "the answer is empty")
    if len(answer) > MAX_ANSWER_LENGTH:
        return _invalid(question, f"the answer is too long (over {MAX_ANSWER_LENGTH} characters)")
    if isinstance(question, ChoiceQuestion):
        return _judge_choice(question, answer, order)
    if isinstance(question, MultiQuestion):
        return _judge_multi(question, answer, order)
    if isinstance(question, NumericQuestion):
        return _judge_numeric(question, answer)
    return _judge_symbolic(question, answer, symbolic)


def _invalid(question: AnyQuestion, message: str, interpreted_as: str | None = None) -> Verdict:
    return Verdict(Status.INVALID, 0.0, question.points, (message,), interpreted_as)


def _letters(options: Sequence[Option], order: Sequence[int] | None) -> dict[str, int]:
    shown = list(order) if order is not None else list(range(len(options)))
    return {LETTERS[position]: index for position, index in enumerate(shown)}


def _parse_letters(answer: str, letters: dict[str, int]) -> list[str] | str:
    """The letters picked, or an error message. Accepts 'a', 'A', 'a,c', 'a c', 'ac', '(b)'."""
    cleaned = re.sub(r"[\s,;()\.\)]+", "", answer.lower())
    if not cleaned or not cleaned.isalpha():
        return f"answer with the option letter(s) {', '.join(letters)}"
    unknown = sorted({ch for ch in cleaned if ch not in letters})
    if unknown:
        return f"there is no option {', '.join(unknown)} (options: {', '.join(letters)})"
    return list(dict.fromkeys(cleaned))  # unique, in the order typed


def _judge_choice(question: ChoiceQuestion, answer: str, order: Sequence[int] | None) -> Verdict:
    letters = _letters(question.options, order)
    picked = _parse_letters(answer, letters)
    if isinstance(picked, str):
        return _invalid(question, picked)
    if len(picked) != 1:
        return _invalid(question, "pick exactly one option")
    option = question.options[letters[picked[0]]]
    interpreted = f"{picked[0]}) {option.text}"
    if option.correct:
        feedback = (option.feedback,) if option.feedback else ()
        return Verdict(Status.CORRECT, question.points, question.points, feedback, interpreted)
    feedback = (option.feedback,) if option.feedback else ("That option is not correct.",)
    return Verdict(Status.INCORRECT, 0.0, question.points, feedback, interpreted)


def _judge_multi(question: MultiQuestion, answer: str, order: Sequence[int] | None) -> Verdict:
    letters = _letters(question.options, order)
    picked = _parse_letters(answer, letters)
    if isinstance(picked, str):
        return _invalid(question, picked)
    chosen = {letters[letter] for letter in picked}
    correct = {index for index, option in enumerate(question.options) if option.correct}
    hits, false_picks = len(chosen & correct), len(chosen - correct)
    # Correct picks earn their share of the points and wrong picks take back their share of the
    # wrong options, so "select everything" always earns 0.
    wrong_total = len(question.options) - len(correct)
    penalty = false_picks / wrong_total if wrong_total else 0.0
    fraction = max(0.0, hits / len(correct) - penalty)
    feedback = []
    by_index = {index: letter for letter, index in letters.items()}
    for index in sorted(chosen - correct, key=lambda i: by_index[i]):
        note = question.options[index].feedback or "this one does not apply."
        feedback.append(f"{by_index[index]}) should not be selected: {note}")
    missed = sorted(correct - chosen, key=lambda i: by_index[i])
    if missed:
        feedback.append(f"You missed {len(missed)} correct option{'s' if len(missed) > 1 else ''}.")
    status = Status.CORRECT if chosen == correct else Status.PARTIAL if fraction > 0 else Status.INCORRECT
    interpreted = ", ".join(sorted(picked))
    return Verdict(status, round(fraction * question.points, 4), question.points, tuple(feedback), interpreted)


def parse_number(text: str) -> float | None:
    """A learner's number: 0.2, -.5, 2e-3, 3/10, with a Unicode minus allowed. Never evaluates code."""
    text = text.strip().replace("\u2212", "-").replace(" ", "").replace("_", "")
    if _NUMBER.match(text):
        value = float(text)
        return value if math.isfinite(value) else None  # 1e400 overflows to inf: not a usable answer
    fraction = _FRACTION.match(text)
    if fraction and int(fraction.group(2)) != 0 and len(text) < 40:
        return float(Fraction(int(fraction.group(1)), int(fraction.group(2))))
    return None


def _judge_numeric(question: NumericQuestion, answer: str) -> Verdict:
    value = parse_number(answer)
    if value is None:
        return _invalid(question, f"'{answer}' is not a number (write e.g. 0.25, -1e-3 or 3/10)")
    interpreted = f"{value:g}"
    if question.tolerance.accepts(value, question.answer):
        return Verdict(Status.CORRECT, question.points, question.points, (), interpreted)
    for wrong in question.wrong_answers:
        if question.tolerance.accepts(value, wrong.answer):
            return Verdict(Status.INCORRECT, 0.0, question.points, (wrong.feedback,), interpreted)
    return Verdict(Status.INCORRECT, 0.0, question.points, (f"{value:g} is not correct.",), interpreted)


def symbolic_spec(question: SymbolicQuestion):  # -> SymbolicSpec
    """The checker's view of a symbolic question."""
    from quizkit.symbolic import SymbolicSpec

    return SymbolicSpec(
        key=question.answer,
        variables=question.variables,
        wrong_answers=question.wrong_answers,
        tolerance=question.tolerance,
        domain=question.domain,
    )


def _judge_symbolic(question: SymbolicQuestion, answer: str, checker: "SymbolicChecker | None") -> Verdict:
    from quizkit import symbolic

    spec = symbolic_spec(question)
    result = checker.check(answer, spec) if checker is not None else symbolic.check_answer(answer, spec)
    status = Status(result.status)
    score = question.points if status is Status.CORRECT else 0.0
    details = {"counterexample": result.counterexample} if result.counterexample else {}
    return Verdict(status, score, question.points, tuple(result.feedback), result.interpreted_as, details)


def correct_answer_text(question: AnyQuestion, order: Sequence[int] | None = None) -> str:
    """The key as a learner should read it, for reviews after answering."""
    if isinstance(question, (ChoiceQuestion, MultiQuestion)):
        letters = _letters(question.options, order)
        picks = [f"{letter}) {question.options[index].text}" for letter, index in letters.items() if question.options[index].correct]
        return "; ".join(picks)
    if isinstance(question, NumericQuestion):
        return f"{question.answer:g}"
    return _readable_key(question)


def _readable_key(question: SymbolicQuestion) -> str:
    """The key as learners write it: ``lam*sign(w)`` -> ``λ·sign(w)`` (text only, no SymPy)."""
    from quizkit.mathparse import display_name

    names = {name for name, _ in question.variables}
    text = re.sub(
        r"[A-Za-z_][A-Za-z0-9_]*",
        lambda match: display_name(match.group()) if match.group() in names else match.group(),
        question.answer,
    )
    return text.replace("**", "^").replace("*", "·")
