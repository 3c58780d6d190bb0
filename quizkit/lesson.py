"""The lesson model (frozen dataclasses) and the entry points that load it.

Loading never stops at the first problem: every problem in the file is collected with its line and
column, then raised together as one :class:`~quizkit.errors.LessonError`. The work of loading lives
in :mod:`quizkit.lesson_builder` (YAML -> checked records -> model, with the declarations of
:mod:`quizkit.lesson_schema`); a lesson that loaded before comes from quizkit's cache without it
(:func:`quizkit.lessoncache.load_model`), so the commands that run a lesson import neither the
schema nor the builder. Nothing here imports numpy or sympy, so listing lessons stays fast.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quizkit import rules
from quizkit.errors import LessonError, Problem
from quizkit.files import NotReadable, read_regular_file
from quizkit.model import frozen

if TYPE_CHECKING:
    from fractions import Fraction

    from quizkit import rawyaml
# Lesson 3, the largest so far, is 60 KB; a file a hundred times larger is not a lesson.
MAX_LESSON_BYTES = 4 << 20

# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


@frozen
class Option:
    """One option of a choice question; ``feedback`` is shown when a learner picks it."""

    text: str
    correct: bool = False
    feedback: str = ""


@frozen
class Tolerance:
    """A value ``got`` matches ``want`` when ``|got - want| <= abs + rel * |want|``."""

    abs: float = 0.0
    rel: float = 0.0

    def accepts(self, got: float, want: float) -> bool:
        return math.isfinite(got) and abs(got - want) <= self.abs + self.rel * abs(want)


@frozen
class NumericWrong:
    """A wrong number a learner is likely to give, with the feedback it gets."""

    answer: float
    feedback: str
    formula: str = ""  # an expression over the question's parameters; ``answer`` is then per variant


@frozen
class ExpressionWrong:
    """A wrong expression a learner is likely to give, with the feedback it gets."""

    answer: str
    feedback: str


@frozen
class Parameter:
    """A question parameter: every value it can take, in order (a list, or a range with a step)."""

    name: str
    values: tuple[Fraction, ...]


@frozen
class Curve:
    """One formula drawn over the plot's x range; once per combination of its ``each`` values."""

    formula: str
    label: str = ""  # a template over the ``each`` names and the question's parameters
    each: tuple[tuple[str, tuple[float, ...]], ...] = ()


@frozen
class Plot:
    """Curves of formulas over ``x`` in [low, high], drawn in the terminal."""

    x: str
    low: float
    high: float
    curves: tuple[Curve, ...]
    title: str = ""
    mark_minima: bool = False
    points: int = 121


@frozen
class Scoring:
    """How many attempts a question allows and what each is worth (the lesson's ``defaults``)."""

    attempts: int = 1
    attempt_scores: tuple[float, ...] = (1.0,)  # fraction of the points per attempt; the last repeats
    hint_penalty: float = 0.0  # fraction of the points each hint seen before the answer costs
    retry_variant: bool = False  # a retry gets new numbers (questions with parameters)

    def fraction(self, attempt: int, hints: int) -> float:
        """The share of the points a correct answer on ``attempt`` (1-based) earns after ``hints``."""
        by_attempt = self.attempt_scores[min(attempt, len(self.attempt_scores)) - 1]
        return max(0.0, by_attempt - self.hint_penalty * hints)


@frozen
class Question:
    """Fields every question has."""

    id: str
    prompt: str
    points: float
    hints: tuple[str, ...]
    explanation: str
    line: int
    parameters: tuple[Parameter, ...] = ()  # prompt, keys and explanation are templates over these
    scoring: Scoring = Scoring()
    plot: Plot | None = None  # drawn with the explanation
    variant: int | None = None  # set on a question resolved for one variant (see quizkit.variants)
    values: tuple[tuple[str, float], ...] = ()  # that variant's parameter values

    type = "question"


@frozen
class ChoiceQuestion(Question):
    """One correct option; answered by its letter."""

    options: tuple[Option, ...] = ()
    shuffle: bool = True
    type = "choice"


@frozen
class MultiQuestion(Question):
    """Select all that apply; partial credit."""

    options: tuple[Option, ...] = ()
    shuffle: bool = True
    type = "multi"


@frozen
class NumericQuestion(Question):
    """A question answered with a number, right within ``tolerance``."""

    answer: float = 0.0
    tolerance: Tolerance = Tolerance()
    wrong_answers: tuple[NumericWrong, ...] = ()
    formula: str = ""  # the key as an expression over the parameters; ``answer`` is then per variant
    bounds: tuple[float, float] | None = None  # every variant's key must lie in [low, high]
    type = "numeric"


@frozen
class SymbolicQuestion(Question):
    """A question answered with an expression, right when SymPy finds it equal to ``answer``."""

    answer: str = ""
    variables: tuple[tuple[str, str], ...] = ()  # (name, assumption), in the order written
    wrong_answers: tuple[ExpressionWrong, ...] = ()
    tolerance: float = rules.SYMBOLIC_TOLERANCE
    domain: tuple[tuple[str, tuple[float, float]], ...] = ()
    type = "symbolic"


AnyQuestion = ChoiceQuestion | MultiQuestion | NumericQuestion | SymbolicQuestion


@frozen
class InfoItem:
    """A reading item between questions: text (a worked example, say) and optionally a plot."""

    id: str
    title: str
    text: str
    line: int
    plot: Plot | None = None
    points = 0.0
    type = "info"


@frozen
class Sweep:
    """After grading, the learner's function and the reference drawn over one argument."""

    vary: str
    low: float
    high: float
    args: tuple[tuple[str, float], ...]  # the other arguments, fixed
    points: int = 41


@frozen
class Mistake:
    """A typical mistake of an exercise: a formula over its parameters, or a named detector."""

    message: str
    formula: str = ""
    detector: str = ""


@frozen
class ArrayLiteral:
    """An explicit numpy array argument: ``values`` is a number or nested lists of numbers."""

    values: Any
    shape: tuple[int, ...] | None = None  # only needed for empty arrays of more than one dimension
    dtype: str = "float64"


# A case argument as written: a float (passed as a Python float), nested lists (a float64 array),
# or an ArrayLiteral.
CaseValue = float | list | ArrayLiteral


@frozen
class Case:
    """One written case of an exercise: the arguments of one call, compared with the reference's result."""

    name: str
    args: tuple[tuple[str, CaseValue], ...]
    line: int
    weight: float = 1.0  # share of the exercise's points, relative to the other groups
    hidden: bool = False  # feedback names the case and says passed or failed, nothing more


@frozen
class Generator:
    """How to draw one random argument."""

    shape: tuple[int, ...] | None  # None: a Python float; (): a 0-d array
    low: float
    high: float
    zeros: float = 0.0  # fraction of entries set to exactly 0.0
    ties_with: str | None = None  # name of a scalar argument ...
    ties: float = 0.0  # ... whose +/- value this fraction of entries is set to exactly
    dtype: str = "float64"


@frozen
class RandomCases:
    """A block of ``count`` cases drawn from ``seed``: the arguments come from the generators."""

    name: str
    seed: int
    count: int
    args: tuple[tuple[str, Generator], ...]
    line: int
    weight: float = 1.0  # the whole block counts as one group of this weight
    hidden: bool = False  # feedback names the block and says passed or failed, nothing more


@frozen
class Exercise:
    """A function the learner writes in a file, checked case by case against the reference solution."""

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
    sweep: Sweep | None = None
    mistakes: tuple[Mistake, ...] = ()
    # The reference solutions of ``uses``: trusted code run in the learner's module before the
    # learner's file, so a function the learner does not define comes from the reference.
    preload: tuple[Path, ...] = ()

    @property
    def signature(self) -> str:
        return f"{self.id}({', '.join(self.parameters)})"


@frozen
class Lesson:
    """A loaded lesson file: its questions, readings and exercises, in the learner's order."""

    id: str
    title: str
    description: str
    path: Path
    questions: tuple[AnyQuestion, ...]
    exercises: tuple[Exercise, ...]
    readings: tuple[InfoItem, ...] = ()
    order: tuple[str, ...] = ()  # ids of the questions and readings as the file lists them
    # Where every value was written in the lesson file (None for a lesson built in code): checks
    # that run on the built model place their problems with it instead of reading the file again.
    positions: rawyaml.Positions | None = field(default=None, compare=False, repr=False)

    @property
    def items(self) -> tuple[AnyQuestion | Exercise, ...]:
        """Everything that is scored, questions first."""
        return (*self.questions, *self.exercises)

    @property
    def sequence(self) -> tuple[AnyQuestion | InfoItem | Exercise, ...]:
        """Everything a learner works through, in order: questions and readings as written, then exercises."""
        by_id = {item.id: item for item in (*self.questions, *self.readings)}
        listed = tuple(by_id[item_id] for item_id in self.order if item_id in by_id) if self.order else self.questions
        return (*listed, *self.exercises)

    @property
    def exercise_ids(self) -> frozenset[str]:
        return frozenset(exercise.id for exercise in self.exercises)

    def question(self, question_id: str) -> AnyQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

    @property
    def max_score(self) -> float:
        return sum(item.points for item in self.items)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def read_lesson(
    path: Path, solutions_dir: Path | None = None, *, formulas: bool = True
) -> tuple[Lesson | None, list[Problem]]:
    """Load a lesson file, returning the lesson (if it has no problems) and every problem found.

    ``solutions_dir`` is where reference solutions live (default: ``<course>/solutions/<lesson dir>``).
    ``formulas=False`` skips reading the formulas and templates (a third of the loading time of
    lesson 3): ``quizkit list`` and ``take`` use it to start fast, since a formula is read again
    where it is used and a bad one is reported there; ``validate`` and tests read them all.

    With ``formulas=False``, a lesson that loads without problems is kept, built (without its
    position map), in quizkit's cache (see :func:`quizkit.lessoncache.load_model`), keyed by its
    text, the files around it and quizkit's code, so the next command skips the schema and the builder.
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
    if solutions_dir is None:
        solutions_dir = path.parent.parent.parent / "solutions" / path.parent.name
    from quizkit import lessoncache

    with _cycle_collector_paused():
        # The fast path of the commands that run a lesson; validate reads the formulas and wants
        # the position map, so it always builds.
        kept = lessoncache.load_model(path, solutions_dir, text) if not formulas else None
        if isinstance(kept, Lesson):
            return kept, []
        from quizkit.lesson_builder import build

        lesson, problems = build(text, display, path, solutions_dir, formulas=formulas)
        if lesson is not None and not formulas:
            lessoncache.store_model(path, solutions_dir, text, replace(lesson, positions=None))
        return lesson, problems


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Loading makes tens of thousands of objects (nodes, records, the model) and no reference
    cycle. Python's cycle collector runs every few hundred new objects and would walk them again
    and again as they pile up: paused, loading lesson 3 with nothing cached takes about 13% less CPU
    time, and from the cache about 8% less."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def load_lesson(path: Path, solutions_dir: Path | None = None, *, formulas: bool = True) -> Lesson:
    """Load a lesson file or raise :class:`LessonError` with every problem in it."""
    lesson, problems = read_lesson(path, solutions_dir, formulas=formulas)
    if problems or lesson is None:
        raise LessonError(problems)
    return lesson
