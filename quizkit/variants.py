"""Question variants: parameters, and the question one learner sees.

A question with ``parameters`` stands for every combination of their values (its *variants*,
numbered 0, 1, ... with the last parameter changing fastest). :func:`resolve` turns it into the
plain question of one variant: prompt, hints, explanation and feedback filled in, numeric keys and
wrong answers computed, symbolic keys with the numbers put in. Everything downstream (judging,
rendering, progress) only ever sees resolved questions.

The texts are templates (:mod:`quizkit.templates`); a numeric question's texts may also use
``answer``, the variant's key. No numpy, no SymPy: this runs for every question shown.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

from quizkit.errors import TemplateError, VariantError
from quizkit.formula import Formula, FormulaError, ParseError
from quizkit.lesson import (
    AnyQuestion,
    ChoiceQuestion,
    MultiQuestion,
    NumericQuestion,
    NumericWrong,
    Parameter,
    SymbolicQuestion,
)
from quizkit.templates import fill

__all__ = [  # TemplateError and fill are re-exported: resolving a question fills its templates
    "MAX_CHECKED_VARIANTS",
    "TemplateError",
    "VariantError",
    "checked_variants",
    "chosen_variant",
    "fill",
    "resolve",
    "substitute",
    "variant_count",
    "variant_for",
    "variant_values",
]

# validate checks every variant up to this many, then a fixed sample of this many.
MAX_CHECKED_VARIANTS = 200

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
        raise TemplateError(
            f"question '{question.id}', variant {index}: {error}; run quizkit validate", str(error)
        ) from None
    except (FormulaError, ParseError) as error:
        message = error.message if isinstance(error, ParseError) else str(error)
        where = f"question '{question.id}', variant {index}"
        raise VariantError(
            f"{where}: cannot compute {message}; run quizkit validate", f"cannot compute {message}"
        ) from None


def _resolve(question: AnyQuestion, index: int) -> AnyQuestion:
    values: dict[str, Any] = dict(variant_values(question.parameters, index))
    texts: dict[str, Any] = dict(values)
    changes: dict[str, Any] = {
        "parameters": (),
        "variant": index,
        "values": tuple((k, float(v)) for k, v in values.items()),
    }
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
            replace(option, text=fill(option.text, texts), feedback=fill(option.feedback, texts))
            for option in question.options
        )
    changes.update(
        prompt=fill(question.prompt, texts),
        explanation=fill(question.explanation, texts),
        hints=tuple(fill(hint, texts) for hint in question.hints),
    )
    return replace(question, **changes)
