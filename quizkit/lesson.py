"""The lesson model and its loading: YAML file -> checked records -> frozen dataclasses.

Loading never stops at the first problem: every problem in the file is collected with its line and
column, then raised together as one :class:`~quizkit.errors.LessonError`. Nothing here imports
numpy or sympy, so listing lessons stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Union

from quizkit import rawyaml, rules
from quizkit.casevalues import check_exercise_values
from quizkit.errors import LessonError, Problem
from quizkit.files import NotReadable, read_regular_file
from quizkit.mathparse import ASSUMPTIONS  # the reader of answers owns its vocabulary
from quizkit.schema import (
    INVALID,
    AnyOf,
    Boolean,
    Checker,
    Choice,
    Field,
    ListOf,
    MapOf,
    Number,
    Object,
    Record,
    Tagged,
    Text,
)

IDENTIFIER = r"[a-z0-9][a-z0-9_-]*"
PYTHON_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# Lesson 3, the largest so far, is 60 KB; a file a hundred times larger is not a lesson.
MAX_LESSON_BYTES = 4 << 20

# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool = False
    feedback: str = ""


@dataclass(frozen=True)
class Tolerance:
    """A value ``got`` matches ``want`` when ``|got - want| <= abs + rel * |want|``."""

    abs: float = 0.0
    rel: float = 0.0

    def accepts(self, got: float, want: float) -> bool:
        return math.isfinite(got) and abs(got - want) <= self.abs + self.rel * abs(want)


@dataclass(frozen=True)
class NumericWrong:
    answer: float
    feedback: str


@dataclass(frozen=True)
class ExpressionWrong:
    answer: str
    feedback: str


@dataclass(frozen=True)
class Question:
    """Fields every question has."""

    id: str
    prompt: str
    points: float
    hints: tuple[str, ...]
    explanation: str
    line: int

    type = "question"


@dataclass(frozen=True)
class ChoiceQuestion(Question):
    """One correct option; answered by its letter."""

    options: tuple[Option, ...] = ()
    shuffle: bool = True
    type = "choice"


@dataclass(frozen=True)
class MultiQuestion(Question):
    """Select all that apply; partial credit."""

    options: tuple[Option, ...] = ()
    shuffle: bool = True
    type = "multi"


@dataclass(frozen=True)
class NumericQuestion(Question):
    answer: float = 0.0
    tolerance: Tolerance = Tolerance()
    wrong_answers: tuple[NumericWrong, ...] = ()
    type = "numeric"


@dataclass(frozen=True)
class SymbolicQuestion(Question):
    answer: str = ""
    variables: tuple[tuple[str, str], ...] = ()  # (name, assumption), in the order written
    wrong_answers: tuple[ExpressionWrong, ...] = ()
    tolerance: float = 1e-9
    domain: tuple[tuple[str, tuple[float, float]], ...] = ()
    type = "symbolic"


AnyQuestion = Union[ChoiceQuestion, MultiQuestion, NumericQuestion, SymbolicQuestion]


@dataclass(frozen=True)
class ArrayLiteral:
    """An explicit numpy array argument: ``values`` is a number or nested lists of numbers."""

    values: Any
    shape: tuple[int, ...] | None = None  # only needed for empty arrays of more than one dimension
    dtype: str = "float64"


# A case argument as written: a float (passed as a Python float), nested lists (a float64 array),
# or an ArrayLiteral.
CaseValue = Union[float, list, ArrayLiteral]


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[tuple[str, CaseValue], ...]
    line: int
    weight: float = 1.0  # share of the exercise's points, relative to the other groups
    hidden: bool = False  # feedback names the case and says passed or failed, nothing more


@dataclass(frozen=True)
class Generator:
    """How to draw one random argument."""

    shape: tuple[int, ...] | None  # None: a Python float; (): a 0-d array
    low: float
    high: float
    zeros: float = 0.0  # fraction of entries set to exactly 0.0
    ties_with: str | None = None  # name of a scalar argument ...
    ties: float = 0.0  # ... whose +/- value this fraction of entries is set to exactly
    dtype: str = "float64"


@dataclass(frozen=True)
class RandomCases:
    name: str
    seed: int
    count: int
    args: tuple[tuple[str, Generator], ...]
    line: int
    weight: float = 1.0  # the whole block counts as one group of this weight
    hidden: bool = False  # feedback names the block and says passed or failed, nothing more


@dataclass(frozen=True)
class Exercise:
    id: str  # also the function name
    title: str
    prompt: str
    points: float
    parameters: tuple[str, ...]
    starter: Path
    reference: Path
    hints: tuple[str, ...]
    time_limit: float
    memory_mb: int
    tolerance: Tolerance
    cases: tuple[Case, ...]
    random: tuple[RandomCases, ...]
    line: int
    uses: tuple[str, ...] = ()  # other exercises whose functions this one may call
    # The reference solutions of ``uses``: trusted code run in the learner's module before the
    # learner's file, so a function the learner does not define comes from the reference.
    preload: tuple[Path, ...] = ()

    @property
    def signature(self) -> str:
        return f"{self.id}({', '.join(self.parameters)})"


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    description: str
    path: Path
    questions: tuple[AnyQuestion, ...]
    exercises: tuple[Exercise, ...]

    @property
    def items(self) -> tuple[AnyQuestion | Exercise, ...]:
        """Everything a learner works through, questions first."""
        return (*self.questions, *self.exercises)

    def question(self, question_id: str) -> AnyQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

    @property
    def max_score(self) -> float:
        return sum(item.points for item in self.items)


# ---------------------------------------------------------------------------------------------
# The schema (also the source of `quizkit schema`)
# ---------------------------------------------------------------------------------------------

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


def _question(type_name: str, doc: str, **fields: Field) -> Object:
    common = {
        "id": Field(_ID, required=True),
        "type": Field(Choice((type_name,)), required=True),
        "prompt": Field(Text(doc="the question as the learner sees it"), required=True),
        "points": Field(_POINTS, default=1),
        "hints": Field(_HINTS, default=[]),
        "explanation": Field(Text(doc="shown after the question is answered"), default=""),
    }
    return Object({**common, **fields}, title=f"{type_name} question", doc=doc)


def _wrong_answers(answer: Number | Text, doc: str) -> Field:
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
            answer=Field(Number(doc="the key"), required=True),
            tolerance=Field(_TOLERANCE),
            wrong_answers=_wrong_answers(Number(), "known wrong values and what to tell a learner who gives them"),
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
            tolerance=Field(Number(exclusive_minimum=0, doc="relative tolerance of the numeric check"), default=1e-9),
            domain=Field(
                MapOf(ListOf(Number(), min_items=2), doc="sampling range [low, high] per variable"),
                default={},
            ),
        ),
    },
    doc="a question",
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
    Boolean(doc="a hidden case: feedback names it and says passed or failed, never its inputs, expected value or result"),
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
            Number(integer=True, minimum=64, maximum=1_048_576, doc="memory limit of the learner's process"), default=512
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


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def read_lesson(path: Path, solutions_dir: Path | None = None) -> tuple[Lesson | None, list[Problem]]:
    """Load a lesson file, returning the lesson (if it has no problems) and every problem found.

    ``solutions_dir`` is where reference solutions live (default: ``<course>/solutions/<lesson dir>``).
    """
    display = str(path)
    try:
        # A regular file only (a FIFO would block `list`), capped in size.
        text = read_regular_file(path, limit=MAX_LESSON_BYTES).decode("utf-8")
    except FileNotFoundError:
        return None, [Problem(display, 1, 1, "file not found")]
    except NotReadable as exc:
        return None, [Problem(display, 1, 1, f"cannot read the lesson file: {exc}")]
    except UnicodeDecodeError as exc:
        return None, [Problem(display, 1, 1, f"cannot read the lesson file: not UTF-8 text (byte {exc.start})")]
    root, problems = rawyaml.load(text, display)
    if root is None:
        return None, problems
    checker = Checker(display, problems)
    record = LESSON.check(root, checker)
    if solutions_dir is None:
        solutions_dir = path.parent.parent.parent / "solutions" / path.parent.name
    lesson = _build_lesson(record, path, solutions_dir, checker) if record is not INVALID else None
    return (lesson if not checker.problems else None), checker.problems


def load_lesson(path: Path, solutions_dir: Path | None = None) -> Lesson:
    """Load a lesson file or raise :class:`LessonError` with every problem in it."""
    lesson, problems = read_lesson(path, solutions_dir)
    if problems or lesson is None:
        raise LessonError(problems)
    return lesson


def _build_lesson(record: Record, path: Path, solutions_dir: Path, checker: Checker) -> Lesson:
    seen: dict[str, int] = {}

    def claim_id(item: Record) -> None:
        item_id = item["id"]
        if item_id in seen:
            checker.error(item.at("id"), f"duplicate id '{item_id}' (first used on line {seen[item_id]})")
        else:
            seen[item_id] = item.at("id").line

    questions = []
    for item in record["questions"]:
        claim_id(item)
        questions.append(_build_question(item, checker))
    exercises = []
    for item in record["exercises"]:
        claim_id(item)
        exercises.append(_build_exercise(item, path.parent, solutions_dir, checker))
    # `uses` names other exercises, so it is resolved once all of them are built.
    exercises = [_resolve_uses(item, built, exercises, checker) for item, built in zip(record["exercises"], exercises)]
    return Lesson(
        id=record["id"],
        title=record["title"],
        description=record["description"],
        path=path,
        questions=tuple(questions),
        exercises=tuple(exercises),
    )


def _tolerance(value: Record | None, default: Tolerance) -> Tolerance:
    if value is None:
        return default
    return Tolerance(abs=value["abs"] or 0.0, rel=value["rel"] or 0.0)


def _build_question(item: Record, checker: Checker) -> AnyQuestion:
    common = dict(
        id=item["id"],
        prompt=item["prompt"].strip(),
        points=item["points"],
        hints=tuple(h.strip() for h in item["hints"]),
        explanation=item["explanation"].strip(),
        line=item.node.line,
    )
    kind = item["type"]
    if kind in ("choice", "multi"):
        options = tuple(Option(o["text"].strip(), o["correct"], (o["feedback"] or "").strip()) for o in item["options"])
        _check_options(item, options, kind, checker)
        cls = ChoiceQuestion if kind == "choice" else MultiQuestion
        return cls(**common, options=options, shuffle=item["shuffle"])
    if kind == "numeric":
        tolerance = _tolerance(item["tolerance"], Tolerance(abs=1e-9, rel=1e-6))
        wrongs = []
        for wrong in item["wrong_answers"]:
            if tolerance.accepts(wrong["answer"], item["answer"]):
                checker.error(wrong.at("answer"), "this wrong answer is accepted as correct by the key's tolerance")
            wrongs.append(NumericWrong(wrong["answer"], wrong["feedback"].strip()))
        return NumericQuestion(**common, answer=item["answer"], tolerance=tolerance, wrong_answers=tuple(wrongs))
    variables = tuple(item["variables"].items())
    tolerance_problem = rules.symbolic_tolerance_problem(item["tolerance"])
    if tolerance_problem is not None:
        checker.error(item.at("tolerance"), tolerance_problem)
    domain = []
    for name, bounds in item["domain"].items():
        domain_record = item["domain"]
        name_problem = rules.domain_name_problem(name, item["variables"])
        bounds_problem = None if name_problem else rules.domain_bounds_problem(name, bounds, item["variables"][name])
        if name_problem is not None:
            checker.error(domain_record.node.key_nodes[name], name_problem)
        elif bounds_problem is not None:
            checker.error(domain_record.at(name), bounds_problem)
        else:
            domain.append((name, (bounds[0], bounds[1])))
    wrongs = tuple(ExpressionWrong(w["answer"], w["feedback"].strip()) for w in item["wrong_answers"])
    return SymbolicQuestion(
        **common,
        answer=item["answer"],
        variables=variables,
        wrong_answers=wrongs,
        tolerance=item["tolerance"],
        domain=tuple(domain),
    )


def _check_options(item: Record, options: tuple[Option, ...], kind: str, checker: Checker) -> None:
    if len(options) != len(item.at("options").value):
        return  # an option had problems of its own; counting the rest would only add noise
    correct = sum(o.correct for o in options)
    if kind == "choice" and correct != 1:
        found = "none is" if correct == 0 else f"{correct} are"
        checker.error(item.at("options"), f"a choice question needs exactly one correct option ({found} marked correct)")
    if kind == "multi" and correct == 0:
        checker.error(item.at("options"), "a multi question needs at least one correct option")
    texts: dict[str, int] = {}
    for index, option in enumerate(options):
        if option.text in texts:
            node = item.at("options").value[index]  # type: ignore[index]
            checker.error(node, f"option {index + 1} repeats option {texts[option.text] + 1}")
        texts.setdefault(option.text, index)


def _build_exercise(item: Record, lesson_dir: Path, solutions_dir: Path, checker: Checker) -> Exercise:
    parameters = tuple(item["parameters"])
    if len(set(parameters)) != len(parameters):
        checker.error(item.at("parameters"), "parameter names must be different")
    starter = lesson_dir / (item["starter"] or f"{item['id']}.py")
    reference = solutions_dir / (item["reference"] or f"{item['id']}.py")
    if not starter.is_file():
        checker.error(item.at("starter"), f"starter file not found: {starter}")
    cases = []
    for case in item["cases"]:
        _check_argument_names(case["args"], parameters, checker)
        args = tuple((name, _case_value(case["args"][name])) for name in parameters if name in case["args"])
        cases.append(Case(case["name"], args, case.node.line, float(case["weight"]), case["hidden"]))
    randoms = []
    for group in item["random"]:
        _check_argument_names(group["args"], parameters, checker)
        generators = []
        for name in parameters:
            if name not in group["args"]:
                continue
            spec = group["args"][name]
            ties_with = spec["ties_with"]
            if ties_with is not None and ties_with not in group["args"]:
                checker.error(spec.at("ties_with"), f"ties_with names '{ties_with}', which is not an argument here")
            elif ties_with is not None and group["args"][ties_with]["shape"] is not None:
                checker.error(spec.at("ties_with"), f"ties_with must name a scalar argument; '{ties_with}' has a shape")
            if spec["low"] > spec["high"]:
                checker.error(spec.at("high"), "high must not be below low")
            if spec["zeros"] + spec["ties"] > 1:
                checker.error(spec.at("ties"), "zeros + ties must not exceed 1")
            generators.append(
                (
                    name,
                    Generator(
                        shape=None if spec["shape"] is None else tuple(spec["shape"]),
                        low=spec["low"],
                        high=spec["high"],
                        zeros=spec["zeros"],
                        ties_with=ties_with,
                        ties=spec["ties"],
                        dtype=spec["dtype"],
                    ),
                )
            )
        randoms.append(
            RandomCases(
                group["name"],
                group["seed"],
                group["count"],
                tuple(generators),
                group.node.line,
                float(group["weight"]),
                group["hidden"],
            )
        )
    if not cases and not randoms:
        checker.error(item.node, "an exercise needs at least one case under 'cases' or 'random'")
    check_exercise_values(item, checker)  # what numpy will be asked to build, checked without numpy
    return Exercise(
        id=item["id"],
        title=item["title"],
        prompt=item["prompt"].strip(),
        points=item["points"],
        parameters=parameters,
        starter=starter,
        reference=reference,
        hints=tuple(h.strip() for h in item["hints"]),
        time_limit=float(item["time_limit"]),
        memory_mb=item["memory_mb"],
        tolerance=_tolerance(item["tolerance"], Tolerance(abs=1e-9, rel=1e-9)),
        cases=tuple(cases),
        random=tuple(randoms),
        line=item.node.line,
        uses=tuple(item["uses"]),
    )


def _resolve_uses(item: Record, exercise: Exercise, exercises: list[Exercise], checker: Checker) -> Exercise:
    """``exercise`` with the reference files of the exercises it ``uses``, each checked to exist."""
    by_id = {other.id: other for other in exercises}
    preload = []
    for index, name in enumerate(exercise.uses):
        node = item.at("uses").value[index]  # type: ignore[index]
        if name == exercise.id:
            checker.error(node, "an exercise cannot use itself")
        elif name not in by_id:
            known = ", ".join(other.id for other in exercises if other.id != exercise.id) or "none"
            checker.error(node, f"'{name}' is not an exercise of this lesson (exercises: {known})")
        else:
            preload.append(by_id[name].reference)
    return replace(exercise, preload=tuple(preload))


def _check_argument_names(args: Record, parameters: tuple[str, ...], checker: Checker) -> None:
    for name in args:
        if name not in parameters:
            checker.error(args.node.key_nodes[name], f"'{name}' is not a parameter (parameters: {', '.join(parameters)})")
    missing = [name for name in parameters if name not in args]
    if missing:
        checker.error(args.node, f"missing argument(s): {', '.join(missing)}")


def _case_value(value: Any) -> CaseValue:
    if isinstance(value, Record):
        shape = tuple(value["shape"]) if value["shape"] is not None else None
        return ArrayLiteral(values=value["array"], shape=shape, dtype=value["dtype"])
    return value
