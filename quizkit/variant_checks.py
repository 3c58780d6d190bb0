"""``quizkit validate``'s check of question variants: every variant (or a fixed sample) is built and
its keys checked, each problem placed on the line of the key, wrong answer or text it concerns.

For each variant of each question with parameters:

- every template (prompt, hints, explanation, feedback) fills in;
- a numeric key computes to a finite number inside the question's ``bounds``, and no wrong answer
  is accepted by the key's tolerance (then the wrong answer would be graded correct);
- a symbolic key with the numbers put in parses, and no wrong answer is equivalent to it (SymPy, in
  the worker; a smaller sample, since each check takes a while).

One problem per key and message is reported, naming the first variant that shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quizkit.errors import Problem, TemplateError, VariantError
from quizkit.formula import FormulaError, ParseError
from quizkit.lesson import Lesson, NumericQuestion, SymbolicQuestion
from quizkit.lesson_builder import numeric_key_problems
from quizkit.variants import checked_variants, resolve, variant_count, variant_values

if TYPE_CHECKING:
    from quizkit.rawyaml import Positions
    from quizkit.symbolic import SymbolicChecker

# Symbolic variants each take a SymPy check; this many per question is a fair sample.
MAX_SYMBOLIC_VARIANTS = 12


def check_variants(
    lesson: Lesson, positions: Positions, symbolic: Callable[[], SymbolicChecker]
) -> tuple[str, tuple[Problem, ...]]:
    """Build and check the variants of every question with parameters (see the module docstring):
    a one-line summary of what was checked, and the problems found."""
    problems: dict[tuple[object, ...], Problem] = {}
    checked = total = 0
    for question in lesson.questions:
        if not question.parameters:
            continue
        where = ("questions", lesson.order.index(question.id))
        total += variant_count(question.parameters)
        limit = MAX_SYMBOLIC_VARIANTS if isinstance(question, SymbolicQuestion) else None
        indices = checked_variants(question, limit) if limit else checked_variants(question)
        for index in indices:
            checked += 1
            for keys, message in _variant_problems(question, index, symbolic):
                shown = ", ".join(
                    f"{name} = {float(value):g}" for name, value in variant_values(question.parameters, index).items()
                )
                problems.setdefault(
                    (*where, *keys, message), positions.problem(f"variant {index} ({shown}): {message}", *where, *keys)
                )
    return f"{checked} of {total} variants built and their keys checked", tuple(problems.values())


def _variant_problems(
    question: Any, index: int, symbolic: Callable[[], SymbolicChecker]
) -> list[tuple[tuple[str | int, ...], str]]:
    try:
        shown = resolve(question, index)
    except TemplateError as error:
        return [(_template_keys(question, error.detail), error.detail)]
    except VariantError as error:
        return [(_formula_keys(question, index), error.detail)]
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(shown, NumericQuestion):
        found += numeric_key_problems(shown)
    elif isinstance(shown, SymbolicQuestion):
        from quizkit.questions import symbolic_key_problems

        found += symbolic_key_problems(shown, symbolic())
    return found


def _template_keys(question: Any, message: str) -> tuple[str | int, ...]:
    """The key of the text a template problem is about (the prompt when it cannot be told)."""
    for key in ("prompt", "explanation"):
        field = getattr(question, key)
        if field and any(part in field for part in _fields_named(message)):
            return (key,)
    return ("prompt",)


def _fields_named(message: str) -> list[str]:
    start = message.find("'{")
    end = message.find("}'", start)
    return [message[start + 1 : end + 1]] if start >= 0 and end > start else []


def _formula_keys(question: Any, index: int) -> tuple[str | int, ...]:
    """Which formula of a numeric question fails to compute for variant ``index``: the key's, or
    the first wrong answer's that fails (the key when none can be told)."""
    from quizkit.formula import Formula

    if isinstance(question, NumericQuestion):
        values = variant_values(question.parameters, index)
        candidates = [(("answer",), question.formula)] + [
            (("wrong_answers", number, "answer"), wrong.formula) for number, wrong in enumerate(question.wrong_answers)
        ]
        for keys, formula in candidates:
            if not formula:
                continue
            try:
                Formula(formula, tuple(values)).value(values)
            except (FormulaError, ParseError, ValueError, ZeroDivisionError):
                return keys
    return ("answer",)
