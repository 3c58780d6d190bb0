"""What a lesson file may hold: the schema declarations of lessons, questions and exercises.

Stage two of loading (:mod:`quizkit.schema`) checks a file against these declarations, and
``quizkit schema`` prints them as JSON Schema, so the two cannot drift apart. Turning the checked
records into the frozen model is :mod:`quizkit.lesson`'s job; this module only declares.
"""

from __future__ import annotations

from typing import Any

from quizkit.mathparse import ASSUMPTIONS  # the reader of answers owns its vocabulary
from quizkit.rawyaml import Node
from quizkit.rules import SYMBOLIC_TOLERANCE, SYMBOLIC_TOLERANCE_BOUNDS, symbolic_tolerance_problem
from quizkit.schema import (
    AnyOf,
    Boolean,
    Checker,
    Choice,
    Field,
    ListOf,
    MapOf,
    Number,
    Object,
    Spec,
    Tagged,
    Text,
    read_number,
)

# Detectors an exercise may name under ``mistakes`` (they need more than a formula can say);
# listed here, without importing numpy, and implemented in quizkit.mistakes.NAMED_DETECTORS.
DETECTOR_NAMES = ("treated_tiny_as_zero", "shrinks_by_wrong_amount", "lasso_support")

IDENTIFIER = r"[a-z0-9][a-z0-9_-]*"
PYTHON_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


_ID = Text(pattern=IDENTIFIER, pattern_hint="use lower-case letters, digits, '-' and '_'")
_POINTS = Number(exclusive_minimum=0, doc="points for a full answer (default 1)")
_HINTS = ListOf(Text(), doc="hints shown one at a time when the learner asks")
_TOLERANCE = Object(
    {
        "abs": Field(Number(minimum=0, doc="absolute tolerance")),
        "rel": Field(Number(minimum=0, doc="relative tolerance")),
    },
    title="tolerance",
    doc="|answer - key| <= abs + rel * |key|",
)
_OPTION = Object(
    {
        "text": Field(Text(doc="what the learner reads"), required=True),
        "correct": Field(Boolean(doc="true for a correct option"), default=False),
        "feedback": Field(Text(doc="shown when the learner picks this option")),
    },
    title="option",
)


class NumberOrFormula(Spec):
    """A number, or a formula over the question's parameters written as text."""

    doc: str = ""

    def __init__(self, doc: str = "") -> None:
        self.doc = doc

    def check(self, node: Node, checker: Checker) -> Any:
        value = read_number(node)
        if value is not None:
            return (
                value
                if value == value and abs(value) != float("inf")
                else checker.error(node, "expected a finite number")
            )
        text = str(node.value).strip() if node.kind == "scalar" and not node.is_null else ""
        # A formula starts with '=' (as in a spreadsheet), so a typo'd number is still an error.
        if text.startswith("=") and text[1:].strip():
            return text[1:].strip()
        return checker.error(node, f"expected a number, found {node.describe()} (a formula starts with '=')")

    def json_schema(self) -> dict[str, Any]:
        return self._with_doc({"anyOf": [{"type": "number"}, {"type": "string", "pattern": "^=.+"}]})


class SymbolicTolerance(Spec):
    """A symbolic question's relative tolerance, checked by the rule the symbolic checker applies
    to specs built in code (:func:`quizkit.rules.symbolic_tolerance_problem`), with its position."""

    doc: str = "relative tolerance of the numeric check"

    def check(self, node: Node, checker: Checker) -> Any:
        value = read_number(node)
        if value is None:
            return checker.error(node, f"expected a number, found {node.describe()}")
        problem = symbolic_tolerance_problem(value)
        return value if problem is None else checker.error(node, problem)

    def json_schema(self) -> dict[str, Any]:
        low, high = SYMBOLIC_TOLERANCE_BOUNDS
        return self._with_doc({"type": "number", "exclusiveMinimum": low, "exclusiveMaximum": high})


_RANGE = ListOf(Number(), min_items=2, doc="[low, high]")
PLOT = Object(
    {
        "title": Field(Text(doc="shown above the plot")),
        "x": Field(Text(pattern=PYTHON_NAME, pattern_hint="a name"), required=True),
        "range": Field(_RANGE, required=True),
        "points": Field(Number(integer=True, minimum=5, maximum=1000, doc="sample points (default 121)"), default=121),
        "mark_minima": Field(Boolean(doc="mark each curve's lowest point"), default=False),
        "curves": Field(
            ListOf(
                Object(
                    {
                        "formula": Field(
                            Text(doc="an expression over x, the 'each' names and the parameters"), required=True
                        ),
                        "label": Field(Text(doc="legend entry; a template over the 'each' names")),
                        "each": Field(
                            MapOf(ListOf(Number(), min_items=1), doc="draw the curve once per value (name: [values])"),
                            default={},
                        ),
                    },
                    title="curve",
                ),
                min_items=1,
            ),
            required=True,
        ),
    },
    title="plot",
    doc="curves of formulas over a range, drawn in the terminal",
)
PARAMETERS = MapOf(
    AnyOf(
        (
            ListOf(Number(), min_items=1, doc="the values to choose from"),
            Object(
                {
                    "low": Field(Number(), required=True),
                    "high": Field(Number(), required=True),
                    "step": Field(Number(exclusive_minimum=0), required=True),
                },
                title="parameter range",
                doc="low, low + step, ..., high",
            ),
        )
    ),
    doc="parameters: name -> [values] or {low, high, step}; prompt, keys and explanation are templates over them",
)
_SCORING_FIELDS = {
    "attempts": Field(
        Number(integer=True, minimum=1, maximum=100, doc="attempts before the answer is shown (default 1)")
    ),
    "attempt_scores": Field(
        ListOf(
            Number(minimum=0, maximum=1),
            min_items=1,
            doc="fraction of the points per attempt; the last repeats (default [1])",
        )
    ),
    "hint_penalty": Field(Number(minimum=0, maximum=1, doc="fraction of the points each hint seen costs (default 0)")),
    "retry_variant": Field(Boolean(doc="a retry gets new numbers (default false)")),
}
DEFAULTS = Object(dict(_SCORING_FIELDS), title="defaults", doc="scoring defaults for every question")


def _question(type_name: str, doc: str, **fields: Field) -> Object:
    common = {
        "id": Field(_ID, required=True),
        "type": Field(Choice((type_name,)), required=True),
        "prompt": Field(Text(doc="the question as the learner sees it"), required=True),
        "points": Field(_POINTS, default=1),
        "hints": Field(_HINTS, default=[]),
        "explanation": Field(Text(doc="shown after the question is answered"), default=""),
        "parameters": Field(PARAMETERS, default={}),
        **_SCORING_FIELDS,
        "plot": Field(PLOT),
    }
    return Object({**common, **fields}, title=f"{type_name} question", doc=doc)


def _wrong_answers(answer: Spec, doc: str) -> Field:
    wrong = Object(
        {"answer": Field(answer, required=True), "feedback": Field(Text(), required=True)}, title="wrong answer"
    )
    return Field(ListOf(wrong, doc=doc), default=[])


_OPTIONS = ListOf(_OPTION, min_items=2, doc="options, shown with letters a, b, c, ...")
_SHUFFLE = Field(Boolean(doc="shuffle options per learner (default true)"), default=True)

QUESTION = Tagged(
    "type",
    {
        "choice": _question(
            "choice", "Pick the one correct option.", options=Field(_OPTIONS, required=True), shuffle=_SHUFFLE
        ),
        "multi": _question(
            "multi", "Select all that apply; partial credit.", options=Field(_OPTIONS, required=True), shuffle=_SHUFFLE
        ),
        "numeric": _question(
            "numeric",
            "A number, compared with a tolerance.",
            answer=Field(NumberOrFormula(doc="the key: a number, or a formula over the parameters"), required=True),
            tolerance=Field(_TOLERANCE),
            wrong_answers=_wrong_answers(
                NumberOrFormula(), "known wrong values (numbers or formulas) and what to tell a learner who gives them"
            ),
            bounds=Field(ListOf(Number(), min_items=2, doc="[low, high] that every variant's key must lie in")),
        ),
        "symbolic": _question(
            "symbolic",
            "An expression checked for equivalence with SymPy.",
            answer=Field(Text(doc="the key, in SymPy syntax"), required=True),
            variables=Field(
                MapOf(Choice(ASSUMPTIONS), min_items=1, doc="every symbol a learner may use, with its assumption"),
                required=True,
            ),
            wrong_answers=_wrong_answers(Text(), "known wrong expressions and what to tell a learner who gives them"),
            tolerance=Field(SymbolicTolerance(), default=SYMBOLIC_TOLERANCE),
            domain=Field(
                MapOf(ListOf(Number(), min_items=2), doc="sampling range [low, high] per variable"),
                default={},
            ),
        ),
        "info": Object(
            {
                "id": Field(_ID, required=True),
                "type": Field(Choice(("info",)), required=True),
                "title": Field(Text(doc="a heading")),
                "text": Field(Text(doc="what the learner reads"), required=True),
                "plot": Field(PLOT),
            },
            title="info item",
            doc="A reading item: text (a worked example, say), optionally a plot; not scored.",
        ),
    },
    doc="a question or a reading item",
)


class _NestedNumbers(ListOf):
    """Nested lists of numbers (arrays of any dimension)."""

    def __init__(self) -> None:
        super().__init__(Number(finite=False))
        self.item = AnyOf((Number(finite=False), self))

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"anyOf": [{"type": "number"}, {"type": "array"}]}}


_DTYPES = ("float64", "float32", "int64")
_ARRAY = Object(
    {
        "array": Field(AnyOf((Number(finite=False), _NestedNumbers())), required=True),
        "shape": Field(ListOf(Number(integer=True, minimum=0))),
        "dtype": Field(Choice(_DTYPES), default="float64"),
    },
    title="array",
    doc="an explicit numpy array; a bare number here gives a 0-d array",
)
CASE_VALUE = AnyOf(
    (Number(finite=False), _NestedNumbers(), _ARRAY),
    doc="a number (Python float), nested lists (float64 array) or {array: ..., shape: ..., dtype: ...}",
)
_FRACTION = Number(minimum=0, maximum=1)
_HIDDEN = Field(
    Boolean(
        doc="a hidden case: feedback names it and says passed or failed, never its inputs, expected value or result"
    ),
    default=False,
)
GENERATOR = Object(
    {
        "shape": Field(ListOf(Number(integer=True, minimum=0), doc="array shape; omit for a Python float, [] for 0-d")),
        "low": Field(Number(), required=True),
        "high": Field(Number(), required=True),
        "zeros": Field(_FRACTION, default=0.0),
        "ties_with": Field(Text(pattern=PYTHON_NAME, pattern_hint="a parameter name")),
        "ties": Field(_FRACTION, default=0.0),
        "dtype": Field(Choice(_DTYPES), default="float64"),
    },
    title="random argument",
    doc="uniform in [low, high]; 'zeros' of the entries exactly 0.0, 'ties' of them exactly +/- the scalar 'ties_with'",
)
_WEIGHT = Field(
    Number(
        exclusive_minimum=0,
        doc="share of the exercise's points for passing this group, relative to the other groups (default 1)",
    ),
    default=1.0,
)
EXERCISE = Object(
    {
        "id": Field(Text(pattern=PYTHON_NAME, pattern_hint="the Python function name"), required=True),
        "title": Field(Text(), required=True),
        "prompt": Field(Text(doc="the task as the learner sees it"), required=True),
        "points": Field(_POINTS, default=1),
        "parameters": Field(ListOf(Text(pattern=PYTHON_NAME), min_items=1), required=True),
        "starter": Field(Text(doc="starter file, relative to the lesson folder (default <id>.py)")),
        "reference": Field(Text(doc="reference solution, relative to solutions/<lesson>/ (default <id>.py)")),
        "hints": Field(_HINTS, default=[]),
        "time_limit": Field(Number(exclusive_minimum=0, maximum=60, doc="seconds for the whole run"), default=2.0),
        "memory_mb": Field(
            Number(integer=True, minimum=64, maximum=1_048_576, doc="memory limit of the learner's process"),
            default=512,
        ),
        "tolerance": Field(_TOLERANCE),
        "uses": Field(
            ListOf(
                Text(pattern=PYTHON_NAME, pattern_hint="an exercise id"),
                doc="ids of other exercises whose functions this one calls; their reference solutions are "
                "loaded before the learner's file, so a function the file does not define comes from the "
                "reference (learner code can read that reference)",
            ),
            default=[],
        ),
        "sweep": Field(
            Object(
                {
                    "vary": Field(Text(pattern=PYTHON_NAME, pattern_hint="a parameter name"), required=True),
                    "range": Field(_RANGE, required=True),
                    "args": Field(MapOf(Number(), doc="the other arguments, fixed"), default={}),
                    "points": Field(Number(integer=True, minimum=5, maximum=400), default=41),
                },
                title="sweep",
                doc="after grading, draw the learner's function against the reference over one scalar argument",
            )
        ),
        "mistakes": Field(
            ListOf(
                Object(
                    {
                        "formula": Field(Text(doc="the wrong result as a formula over the parameters")),
                        "detector": Field(Choice(DETECTOR_NAMES, doc="a named detector from quizkit.mistakes")),
                        "message": Field(Text(doc="what to tell the learner (a named detector has its own)")),
                    },
                    title="mistake",
                ),
                doc="typical mistakes: shown when the learner's wrong values match on every failing case",
            ),
            default=[],
        ),
        "cases": Field(
            ListOf(
                Object(
                    {
                        "name": Field(Text(), required=True),
                        "args": Field(MapOf(CASE_VALUE), required=True),
                        "weight": _WEIGHT,
                        "hidden": _HIDDEN,
                    },
                    title="case",
                )
            ),
            default=[],
        ),
        "random": Field(
            ListOf(
                Object(
                    {
                        "name": Field(Text(), required=True),
                        "seed": Field(Number(integer=True, minimum=0), required=True),
                        "count": Field(Number(integer=True, minimum=1, maximum=1_000), required=True),
                        "args": Field(MapOf(GENERATOR), required=True),
                        "weight": _WEIGHT,
                        "hidden": _HIDDEN,
                    },
                    title="random cases",
                )
            ),
            default=[],
        ),
    },
    title="exercise",
)
LESSON = Object(
    {
        "id": Field(_ID, required=True),
        "title": Field(Text(), required=True),
        "description": Field(Text(), default=""),
        "defaults": Field(DEFAULTS),
        "questions": Field(ListOf(QUESTION), default=[]),
        "exercises": Field(ListOf(EXERCISE), default=[]),
    },
    title="lesson",
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a lesson file, built from the same declarations that check it."""
    schema = LESSON.json_schema()
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://quizkit.dev/schema/lesson.json",
        **schema,
    }
