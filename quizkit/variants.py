"""Question variants: parameters, templates, and the question one learner sees.

A question with ``parameters`` stands for every combination of their values (its *variants*,
numbered 0, 1, ... with the last parameter changing fastest). :func:`resolve` turns it into the
plain question of one variant: prompt, hints, explanation and feedback filled in, numeric keys and
wrong answers computed, symbolic keys with the numbers put in. Everything downstream (judging,
rendering, progress) only ever sees resolved questions.

Templates: ``{expression}`` or ``{expression:spec}``, where the expression is a formula over the
parameters (read by :class:`quizkit.formula.Formula`, never evaluated as code) and ``spec`` a
number format such as ``.2f`` or ``g``; ``{{`` and ``}}`` are literal braces. A numeric question's
texts may also use ``answer``, the variant's key. No numpy, no SymPy: this runs for every
question shown.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

from quizkit.errors import QuizkitError
from quizkit.formula import Formula, FormulaError, ParseError, format_number
from quizkit.lesson import (
    AnyQuestion,
    ChoiceQuestion,
    MultiQuestion,
    NumericQuestion,
    NumericWrong,
    Parameter,
    SymbolicQuestion,
)

# validate checks every variant up to this many, then a fixed sample of this many.
MAX_CHECKED_VARIANTS = 200

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
# A number format: fill/align, sign, width up to 2 digits, grouping, precision up to 2 digits, type.
_SPEC = re.compile(r"[<>^=]?[+\- ]?#?0?\d{0,2}[,_]?(?:\.\d{1,2})?[eEfFgG%]?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class VariantError(QuizkitError, ValueError):
    """A variant cannot be built (a course problem: ``quizkit validate`` reports it at its line)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message  # the reason alone, for validate's line


class TemplateError(VariantError):
    """A template cannot be read or filled; the message says which part and why."""


def variant_count(parameters: Sequence[Parameter]) -> int:
    return math.prod(len(parameter.values) for parameter in parameters)


def variant_values(parameters: Sequence[Parameter], index: int) -> dict[str, Fraction]:
    """The parameter values of variant ``index`` (mixed radix, the last parameter fastest)."""
    values: dict[str, Fraction] = {}
    for parameter in reversed(parameters):
        index, position = divmod(index, len(parameter.values))
        values[parameter.name] = parameter.values[position]
    return dict(reversed(list(values.items())))


def variant_for(question: AnyQuestion, seed: int, attempt: int = 1) -> int:
    """The variant a learner with ``seed`` gets; deterministic. With ``retry_variant`` each attempt
    after the first draws one of the other variants, otherwise every attempt is the first one's."""
    count = variant_count(question.parameters)
    if count <= 1:
        return 0
    if attempt <= 1 or not question.scoring.retry_variant:
        return random.Random(f"{seed}:{question.id}:variant:1").randrange(count)
    # A retry draws among the other variants, so "new numbers" are never the same numbers again.
    previous = variant_for(question, seed, attempt - 1)
    pick = random.Random(f"{seed}:{question.id}:variant:{attempt}").randrange(count - 1)
    return pick + 1 if pick >= previous else pick


def chosen_variant(question: AnyQuestion, seed: int | None, variant: int | None) -> int:
    """The variant ``quizkit check`` judges against: ``variant`` if given, else the one of ``seed``,
    else variant 0. Raises InputError for a variant the question does not have."""
    from quizkit.errors import InputError

    count = variant_count(question.parameters)
    if variant is not None and seed is not None:
        raise InputError("give --seed or --variant, not both")
    if variant is not None:
        if variant >= count:
            raise InputError(f"question '{question.id}' has {count} variant(s): --variant takes 0 to {count - 1}")
        return variant
    return variant_for(question, seed) if seed is not None else 0


def checked_variants(question: AnyQuestion, limit: int = MAX_CHECKED_VARIANTS) -> list[int]:
    """Every variant, or when there are more than ``limit``, the first, the last and a fixed sample."""
    count = variant_count(question.parameters)
    if count <= limit:
        return list(range(count))
    sample = set(random.Random(f"validate:{question.id}").sample(range(count), limit - 2))
    return sorted(sample | {0, count - 1})


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------


def _fields(template: str) -> Iterator[tuple[re.Match[str], str, str]]:
    """(match, expression, spec) of each ``{...}`` field; raises TemplateError on a stray brace."""
    for match in _FIELD.finditer(template):
        text = match.group(0)
        if text in ("{{", "}}"):
            continue
        if match.group(1) is None:
            raise TemplateError(f"a single '{text}' at character {match.start() + 1}: write '{text * 2}' for a brace")
        body = match.group(1)
        expression, _, spec = body.rpartition(":") if ":" in body else (body, "", "")
        if not expression.strip():
            raise TemplateError(f"an empty field '{text}'")
        if not _SPEC.fullmatch(spec.strip()):
            raise TemplateError(f"'{spec}' in '{text}' is not a number format (examples: .2f, g, .3g)")
        yield match, expression.strip(), spec.strip()


def template_problems(template: str, names: Sequence[str]) -> list[str]:
    """Why ``template`` cannot be filled from ``names`` (empty when it can)."""
    problems = []
    try:
        for match, expression, _ in _fields(template):
            if expression in names:
                continue  # a plain parameter name, the common case: nothing to parse
            try:
                Formula(expression, tuple(names))
            except ParseError as error:
                problems.append(f"in '{match.group(0)}': {error.message}")
    except TemplateError as error:
        problems.append(str(error))
    return problems


def fill(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with every field computed from ``values``; raises TemplateError."""
    if "{" not in template and "}" not in template:
        return template
    names = tuple(values)
    parts: list[str] = []
    last = 0
    for match in _FIELD.finditer(template):
        parts.append(template[last : match.start()])
        last = match.end()
        if match.group(0) in ("{{", "}}"):
            parts.append(match.group(0)[0])
            continue
        for _, expression, spec in _fields(match.group(0)):
            try:
                parts.append(format_number(Formula(expression, names).value(values), spec))
            except (ParseError, FormulaError) as error:
                message = error.message if isinstance(error, ParseError) else str(error)
                raise TemplateError(f"in '{match.group(0)}': {message}") from None
    parts.append(template[last:])
    return "".join(parts)


def substitute(expression: str, values: Mapping[str, Any]) -> str:
    """A symbolic key with parameter names replaced by their values in brackets (``c`` -> ``(3/10)``)."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(0)
        if name not in values:
            return name
        number = Fraction(values[name]) if not isinstance(values[name], float) else Fraction(repr(values[name]))
        return f"({number.numerator}/{number.denominator})" if number.denominator != 1 else f"({number.numerator})"

    return _NAME.sub(value_of, expression)


# ---------------------------------------------------------------------------------------------
# Resolving a question for one variant
# ---------------------------------------------------------------------------------------------


def resolve(question: AnyQuestion, index: int = 0) -> AnyQuestion:
    """The plain question of variant ``index``. A question without parameters comes back as it is.

    Raises TemplateError (or FormulaError/ParseError for a key) when a variant cannot be built:
    ``quizkit validate`` checks every variant so that learners never meet one.
    """
    if not question.parameters:
        return question
    try:
        return _resolve(question, index)
    except TemplateError as error:
        raise TemplateError(f"question '{question.id}', variant {index}: {error}; run quizkit validate", str(error)) from None
    except (FormulaError, ParseError) as error:
        message = error.message if isinstance(error, ParseError) else str(error)
        where = f"question '{question.id}', variant {index}"
        raise VariantError(f"{where}: cannot compute {message}; run quizkit validate", f"cannot compute {message}") from None


def _resolve(question: AnyQuestion, index: int) -> AnyQuestion:
    values: dict[str, Any] = dict(variant_values(question.parameters, index))
    texts: dict[str, Any] = dict(values)
    changes: dict[str, Any] = {"parameters": (), "variant": index, "values": tuple((k, float(v)) for k, v in values.items())}
    if isinstance(question, NumericQuestion):
        names = tuple(values)
        key = Formula(question.formula, names).number(values) if question.formula else question.answer
        texts["answer"] = key
        wrongs = tuple(
            NumericWrong(
                Formula(wrong.formula, names).number(values) if wrong.formula else wrong.answer,
                fill(wrong.feedback, texts),
            )
            for wrong in question.wrong_answers
        )
        changes.update(answer=key, formula="", wrong_answers=wrongs)
    elif isinstance(question, SymbolicQuestion):
        changes.update(
            answer=substitute(question.answer, values),
            wrong_answers=tuple(
                replace(wrong, answer=substitute(wrong.answer, values), feedback=fill(wrong.feedback, texts))
                for wrong in question.wrong_answers
            ),
        )
    elif isinstance(question, (ChoiceQuestion, MultiQuestion)):
        changes["options"] = tuple(
            replace(option, text=fill(option.text, texts), feedback=fill(option.feedback, texts)) for option in question.options
        )
    changes.update(
        prompt=fill(question.prompt, texts),
        explanation=fill(question.explanation, texts),
        hints=tuple(fill(hint, texts) for hint in question.hints),
    )
    return replace(question, **changes)
