"""Text templates: prompts, hints, explanations, feedback and plot labels with numbers put in.

A template field is ``{expression}`` or ``{expression:spec}``, where the expression is a formula
over the names given (read by :class:`quizkit.formula.Formula`, never evaluated as code) and
``spec`` a number format such as ``.2f`` or ``g``; ``{{`` and ``}}`` are literal braces.

The loader checks templates with :func:`template_problems` (so it needs nothing of the variants
that use them); :mod:`quizkit.variants` fills them for one variant with :func:`fill`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from quizkit.errors import TemplateError
from quizkit.formula import Formula, FormulaError, ParseError, format_number

__all__ = ["TemplateError", "fill", "template_problems"]

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
# A number format: fill/align, sign, width up to 2 digits, grouping, precision up to 2 digits, type.
_SPEC = re.compile(r"[<>^=]?[+\- ]?#?0?\d{0,2}[,_]?(?:\.\d{1,2})?[eEfFgG%]?")


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
