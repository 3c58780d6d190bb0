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
from quizkit.rules import answer_length_problem
from quizkit.text import plural
from quizkit.verdict import Status, Verdict

if TYPE_CHECKING:
    from quizkit.symbolic import SymbolicChecker

LETTERS = string.ascii_lowercase
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_FRACTION = re.compile(r"^([-+]?\d+)\s*/\s*(\d+)$")
_PERCENT = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+))\s*%$")
_DECIMALS = re.compile(r"^[-+\u2212]?\d*\.(\d+)$")


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
    symbolic: SymbolicChecker | None = None,
) -> Verdict:
    """Judge ``answer`` to ``question``. Never raises on learner input."""
    answer = answer.strip()
    if not answer:
        return _invalid(question, "the answer is empty")
    too_long = answer_length_problem(answer)
    if too_long is not None:
        return _invalid(question, too_long)
    if isinstance(question, ChoiceQuestion):
        return _judge_choice(question, answer, order)
    if isinstance(question, MultiQuestion):
        return _judge_multi(question, answer, order)
    if isinstance(question, NumericQuestion):
        return _judge_numeric(question, answer)
    return _judge_symbolic(question, answer, symbolic)


def _invalid(question: AnyQuestion, message: str, interpreted_as: str | None = None) -> Verdict:
    return Verdict(Status.INVALID, 0.0, question.points, (message,), interpreted_as)


def _invalid_at(question: AnyQuestion, message: str, answer: str, span: tuple[int, int] | None) -> Verdict:
    """An invalid verdict whose message is about ``span`` of ``answer`` (renderers draw a caret)."""
    details: dict[str, object] = (
        {} if span is None else {"position": {"answer": answer, "start": span[0], "end": span[1]}}
    )
    return Verdict(Status.INVALID, 0.0, question.points, (message,), None, details)


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
    status = Status.graded(chosen == correct, fraction > 0)
    interpreted = ", ".join(sorted(picked))
    return Verdict(status, round(fraction * question.points, 4), question.points, tuple(feedback), interpreted)


def read_number(text: str) -> float:
    """A learner's number: ``0.2``, ``-.5``, ``2e-3``, ``3/10``, or arithmetic on numbers such as
    ``0.9^10``, ``0.5-0.08`` and ``2*0.15``.

    Arithmetic goes through :func:`quizkit.mathparse.evaluate_number` (the answer reader's
    allow-list, exact fractions, no SymPy), so nothing is ever evaluated as code. A percentage
    (``42%``) is refused with advice rather than read as 0.42: whether 42% means 0.42 depends on
    the question, and a refused answer costs no attempt. Raises
    :class:`~quizkit.mathparse.ParseError` with advice.
    """
    from quizkit.mathparse import ParseError, evaluate_number

    plain = text.strip().replace("\u2212", "-").replace("_", "")
    if _NUMBER.match(plain):
        value = float(plain)
        if not math.isfinite(value):  # 1e400 overflows to inf: not a usable answer
            raise ParseError("This number is too large; give a finite number.")
        return value
    fraction = _FRACTION.match(plain)
    if fraction and int(fraction.group(2)) != 0 and len(plain) < 40:
        return float(Fraction(int(fraction.group(1)), int(fraction.group(2))))
    percent = _PERCENT.match(plain)
    if percent:
        number = percent.group(1)
        raise ParseError(
            f"Write the answer as a number, not a percentage: {number}% is {_percent_as_decimal(number)} "
            f"(or {number}/100).",
            span=(len(text) - len(text.lstrip()) + len(plain) - 1, len(text) - len(text.lstrip()) + len(plain)),
        )
    return evaluate_number(text)


def parse_number(text: str) -> float | None:
    """:func:`read_number`, or None when the text is not a number."""
    from quizkit.mathparse import ParseError

    try:
        return read_number(text)
    except ParseError:
        return None


def _percent_as_decimal(number: str) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        return format(Decimal(number).scaleb(-2).normalize(), "f")
    except (InvalidOperation, ValueError):
        return f"{number}/100"


def _judge_numeric(question: NumericQuestion, answer: str) -> Verdict:
    from quizkit.mathparse import ParseError

    try:
        value = read_number(answer)
    except ParseError as error:
        return _invalid_at(question, error.message, answer, error.span)
    # A computed answer (0.9^10) is shown with the digits that were compared.
    plain = answer.strip().replace("\u2212", "-").replace("_", "")
    written = _NUMBER.match(plain) or _FRACTION.match(plain)
    interpreted = f"{value:g}" if written else f"{answer.strip()} = {value:.12g}"
    if question.tolerance.accepts(value, question.answer):
        return Verdict(Status.CORRECT, question.points, question.points, (), interpreted)
    for wrong in question.wrong_answers:
        if question.tolerance.accepts(value, wrong.answer):
            return Verdict(Status.INCORRECT, 0.0, question.points, (wrong.feedback,), interpreted)
    feedback = [f"{value:g} is not correct."]
    digits = _rounded_digits(answer, value, question)
    if digits is not None:
        typed, needed = digits
        feedback = [
            (
                f"{value:g} is close: it looks like the answer cut to {plural(typed, 'decimal place')}. "
                f"Give more digits (at least {needed} decimal places)."
            )
        ]
    return Verdict(Status.INCORRECT, 0.0, question.points, tuple(feedback), interpreted)


def _rounded_digits(answer: str, value: float, question: NumericQuestion) -> tuple[int, int] | None:
    """(decimals typed, decimals needed) when ``value`` is the key rounded or truncated to the
    decimals the learner typed, and more decimals would be accepted; otherwise None."""
    match = _DECIMALS.match(answer.strip())
    if match is None:
        return None
    typed = len(match.group(1))
    key = question.answer
    scale = 10**typed
    cut = (math.floor(key * scale) if key >= 0 else math.ceil(key * scale)) / scale
    near = abs(value - round(key, typed)) < 0.5 / scale / 1000 or abs(value - cut) < 0.5 / scale / 1000
    if not near:
        return None
    for needed in range(typed + 1, 16):
        if question.tolerance.accepts(round(key, needed), key):
            return typed, needed
    return None


def symbolic_spec(question: SymbolicQuestion):  # -> SymbolicSpec
    """The checker's view of a symbolic question."""
    from quizkit.symbolic import FrozenMap, SymbolicSpec

    return SymbolicSpec(
        key=question.answer,
        variables=FrozenMap(question.variables),
        wrong_answers=question.wrong_answers,
        tolerance=question.tolerance,
        domain=FrozenMap(question.domain),
    )


def _judge_symbolic(question: SymbolicQuestion, answer: str, checker: SymbolicChecker | None) -> Verdict:
    from quizkit import symbolic

    spec = symbolic_spec(question)
    result = checker.check(answer, spec) if checker is not None else symbolic.check_answer(answer, spec)
    status = result.status
    if status is Status.INVALID and result.span is not None:
        return _invalid_at(question, result.feedback[0], answer, result.span)
    score = question.points if status is Status.CORRECT else 0.0
    details = {"counterexample": result.counterexample} if result.counterexample else {}
    return Verdict(status, score, question.points, tuple(result.feedback), result.interpreted_as, details)


def correct_answer_text(question: AnyQuestion, order: Sequence[int] | None = None) -> str:
    """The key as a learner should read it, for reviews after answering."""
    if isinstance(question, (ChoiceQuestion, MultiQuestion)):
        letters = _letters(question.options, order)
        picks = [
            f"{letter}) {question.options[index].text}"
            for letter, index in letters.items()
            if question.options[index].correct
        ]
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


def symbolic_key_problems(
    question: SymbolicQuestion, checker: SymbolicChecker
) -> list[tuple[tuple[str | int, ...], str]]:
    """The problems of a symbolic question's key and wrong answers (a fixed question, or one
    variant), each with the keys of the value it is about, below the question.

    The key is checked alone first, then with one wrong answer at a time, so that every problem can
    be placed on the line it concerns; a broken key is reported alone, since every wrong answer
    would repeat its problems.
    """
    from dataclasses import replace

    spec = symbolic_spec(question)
    key_messages = checker.key_problems(replace(spec, wrong_answers=()))
    found: list[tuple[tuple[str | int, ...], str]] = [(("answer",), message) for message in key_messages]
    if not key_messages:
        for number, wrong in enumerate(spec.wrong_answers):
            for message in checker.key_problems(replace(spec, wrong_answers=(wrong,))):
                found.append((("wrong_answers", number, "answer"), message))
    return found
