"""Coding exercises: concrete calls, expected values, and judging a learner's results.

The flow, one way::

    Exercise ──plan_exercise()──▶ GradingPlan (calls + expected values from the trusted reference)
    learner file ──Runner (sandbox, child process)──▶ RunResult ──judge()──▶ ExerciseResult

The result types live in :mod:`quizkit.results`; running many files and judging them as they finish
is :mod:`quizkit.grading`, the one loop every command uses.

Judging rules (the learner-facing contract, in the order they are checked for each call):

1. *It ran*: a call that raised fails with the exception; when the process died (time limit, memory
   limit, ``sys.exit``, crash) the call it died in fails with the reason and every later call is
   "not run" with the same reason. A call that raised never stops the other calls being judged.
2. *Type*: the result must be numeric (a float, numpy scalar or numpy array). ``None``, lists,
   strings and other objects fail, naming what was returned. Complex, object, string or
   date dtypes fail.
3. *Shape*: the result has the reference's shape. For scalar input that is ``()``: a float or a 0-d
   array is accepted, an array of shape ``(1,)`` is not. For array input, the input's shape.
4. *Values*, entry by entry, against the reference:
   - where the expected entry is exactly 0.0 the learner's entry must be ``== 0.0`` (``-0.0``
     counts; ``1e-12`` does not, and the message says it is tiny but not zero);
   - where the expected entry is nan (or +/-inf) the learner's must be nan (or the same inf); nan
     or inf where a finite number is expected fails;
   - every other entry must satisfy ``|got - expected| <= abs + rel * |expected|`` with the
     exercise's tolerance.
   The dtype kind is not judged on its own: integer or boolean results pass when every value is
   right (a Python ``0`` for a scalar zero is a fine answer), but when values are wrong the message
   points out that an integer dtype drops fractions. Any float width is accepted; the tolerance
   decides whether float32 precision is enough.
5. *Inputs*: a call that modified one of its input arrays fails, even when the values are right.

Scoring: every explicit case is a group of its own and every ``random`` block is one group; a
group passes only if all of its calls pass (all-or-nothing per group, so twenty random draws do not
outweigh one hand-written edge case). Each group has a ``weight`` (default 1), so that edge cases a
function passes without looking at its input (an empty array, lam = 0) can count for little. The
score is ``points * weight of the passed groups / total weight``.

numpy is imported at the top: this module is only imported by commands that grade.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from quizkit import plancache
from quizkit.errors import QuizkitError
from quizkit.lesson import ArrayLiteral, CaseValue, Exercise, Generator, RandomCases, Tolerance
from quizkit.mistakes import Detector, diagnose, exercise_detectors
from quizkit.model import frozen
from quizkit.results import CaseResult, CaseStatus, Difference, ExerciseResult, GroupResult
from quizkit.rules import INTEGER_DTYPE_KINDS, REAL_DTYPE_KINDS, tiny_where_zero
from quizkit.sandbox import CallOutcome, InProcessRunner, Job, Limits, Runner, RunResult, RunStatus, Source
from quizkit.verdict import Status

__all__ = [  # the result types live in quizkit.results; re-exported here for judging's callers
    "CaseResult",
    "CaseStatus",
    "Difference",
    "ExerciseResult",
    "GroupResult",
]

# At most this many differing entries are listed per failing case: enough to see a pattern, never a dump.
MAX_DIFFERENCES = 5


class ReferenceSolutionError(QuizkitError):
    """The course's reference solution is missing or does not produce a numeric result for a case.

    This is a problem with the course, not with the learner's file, so it is reported instead of a
    grade.
    """

    exit_code = 2


# ---------------------------------------------------------------------------------------------
# Planning: the calls and their expected values
# ---------------------------------------------------------------------------------------------


@frozen(eq=True)
class CaseGroup:
    """One explicit case, or one block of seeded random cases: the unit of scoring."""

    name: str
    is_random: bool
    line: int
    start: int  # index of its first call in GradingPlan.calls
    count: int  # number of calls (1 for an explicit case)
    weight: float = 1.0
    hidden: bool = False


@frozen
class Call:
    """One call of the learner's function: positional arguments in parameter order."""

    name: str  # the case name, or "<random block name> #<draw>"
    group: str
    args: tuple[object, ...]  # Python floats and numpy arrays
    hidden: bool = False  # part of a hidden case: feedback says passed or failed, nothing more


@frozen
class GradingPlan:
    """Everything needed to judge a file for one exercise; built once per exercise and reused."""

    exercise: Exercise
    calls: tuple[Call, ...]
    groups: tuple[CaseGroup, ...]
    expected: tuple[np.ndarray, ...]  # the reference's result for each call, in call order
    preload: tuple[Source, ...] = ()  # reference solutions of the exercises it uses, read once
    seed: int | None = None  # the grade-time seed the random cases were drawn with (None: the lesson's)

    @functools.cached_property
    def detectors(self) -> tuple[Detector, ...]:
        """The exercise's own mistake detectors, built once per plan (formulas parsed once)."""
        return exercise_detectors(self.exercise)

    def job(self, source: Path | Source, uses: tuple[Source, ...] = ()) -> Job:
        """The sandbox job that runs ``source``'s function on every call of this plan.

        ``source`` is a path, or a :class:`~quizkit.sandbox.Source` holding bytes already read.
        ``uses`` are the learner's own files for the exercises this one uses, run in the learner's
        module first; :attr:`preload` (the references of those exercises) is for the reference run
        only, since a reference solution never enters a learner's process.
        """
        return Job(
            source=source,
            function=self.exercise.id,
            calls=self.arguments,
            limits=limits_for(self.exercise),
            preload=uses,
        )

    @functools.cached_property
    def arguments(self) -> tuple[tuple[object, ...], ...]:
        """Every call's arguments, one tuple that every job of this plan shares, arrays read-only:
        a plan's inputs never change, so the sandbox lays them out once for a whole class."""
        for call in self.calls:
            for value in call.args:
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False
        return tuple(call.args for call in self.calls)


def limits_for(exercise: Exercise) -> Limits:
    """The sandbox limits an exercise asks for (its time limit covers the whole run)."""
    return Limits(
        wall_seconds=exercise.time_limit,
        cpu_seconds=exercise.time_limit,
        memory_bytes=exercise.memory_mb * 1024 * 1024,
    )


def to_argument(value: CaseValue) -> object:
    """A case value as written in YAML turned into the argument passed to the function.

    A number becomes a Python float, nested lists a float64 array, an ``ArrayLiteral`` an array of
    its dtype (a bare number there gives a 0-d array; ``shape`` shapes empty arrays).
    """
    if isinstance(value, ArrayLiteral):
        array = np.array(value.values, dtype=value.dtype)
        if value.shape is not None:
            array = array.reshape(value.shape)
        return array
    if isinstance(value, list):
        return np.array(value, dtype=np.float64)
    return float(value)


def draw_random_cases(
    group: RandomCases, parameters: Sequence[str], grade_seed: int | None = None
) -> list[tuple[object, ...]]:
    """The ``count`` argument tuples of a random block, reproducible from its seed.

    With a ``grade_seed`` (``quizkit grade --seed``, or the course's secret), the draws come from the
    block's seed and that one together: the same kinds of values, but not the ones learners saw
    in practice, so feedback cannot be memorised into a pass.

    For each draw, every argument is first drawn uniformly in [low, high] in parameter order; then
    a ``zeros`` fraction of its entries is set to exactly 0.0 and a ``ties`` fraction to exactly
    +/- the value of the scalar argument named by ``ties_with`` (random signs; the two sets of
    entries never overlap). A fraction of an array of n entries means ``fraction * n`` entries,
    the fractional part rounded up or down at random, so for a scalar it is a probability. With
    dtype float32 a tie is the float32 nearest to the scalar, so it is close to it, not equal.
    """
    rng = np.random.default_rng(group.seed if grade_seed is None else [grade_seed, group.seed])
    generators = dict(group.args)
    draws = []
    for _ in range(group.count):
        values: dict[str, object] = {name: _draw_uniform(gen, rng) for name, gen in group.args}
        # Special values are placed after every argument is drawn, arguments with ties last, so a
        # tie copies the final value (zeros included) of the scalar it names.
        for name, generator in sorted(group.args, key=lambda item: item[1].ties_with is not None):
            tie_value = None
            if generator.ties_with is not None:
                tie_value = float(values[generator.ties_with])  # type: ignore[arg-type]
            values[name] = _place_special_values(values[name], generator, tie_value, rng)
        draws.append(tuple(values[name] for name in parameters if name in generators))
    return draws


def _draw_uniform(generator: Generator, rng: np.random.Generator) -> object:
    size = () if generator.shape is None else generator.shape
    if generator.dtype.startswith("int"):
        drawn: np.ndarray = rng.integers(math.ceil(generator.low), math.floor(generator.high), size=size, endpoint=True)
    else:
        drawn = rng.uniform(generator.low, generator.high, size=size)
    array = np.asarray(drawn, dtype=generator.dtype)
    return float(array) if generator.shape is None else array


def _place_special_values(
    value: object, generator: Generator, tie_value: float | None, rng: np.random.Generator
) -> object:
    if generator.zeros == 0 and (generator.ties == 0 or tie_value is None):
        return value
    array = np.array(value, dtype=generator.dtype)  # a copy, also of a Python float
    flat = array.reshape(-1)
    size = flat.size
    zeros = _stochastic_count(generator.zeros, size, rng)
    ties = min(_stochastic_count(generator.ties, size, rng), size - zeros) if tie_value is not None else 0
    positions = rng.permutation(size)
    flat[positions[:zeros]] = 0.0
    if ties:
        signs = rng.choice(np.array([-1.0, 1.0]), size=ties)
        flat[positions[zeros : zeros + ties]] = signs * tie_value
    return float(array) if generator.shape is None else array


def _stochastic_count(fraction: float, size: int, rng: np.random.Generator) -> int:
    if fraction == 0 or size == 0:
        return 0
    exact = fraction * size
    whole = int(exact)
    return min(size, whole + int(rng.random() < exact - whole))


def build_calls(exercise: Exercise, grade_seed: int | None = None) -> tuple[tuple[Call, ...], tuple[CaseGroup, ...]]:
    """Every call of an exercise, explicit cases first, and the groups they are scored in."""
    calls: list[Call] = []
    groups: list[CaseGroup] = []
    for case in exercise.cases:
        arguments = dict(case.args)
        args = tuple(to_argument(arguments[name]) for name in exercise.parameters)
        groups.append(CaseGroup(case.name, False, case.line, len(calls), 1, case.weight, case.hidden))
        calls.append(Call(case.name, case.name, args, case.hidden))
    for block in exercise.random:
        draws = draw_random_cases(block, exercise.parameters, grade_seed)
        groups.append(CaseGroup(block.name, True, block.line, len(calls), len(draws), block.weight, block.hidden))
        calls.extend(
            Call(f"{block.name} #{number}", block.name, args, block.hidden) for number, args in enumerate(draws, 1)
        )
    return tuple(calls), tuple(groups)


# Plans are a pure function of the exercise and its reference file, so they are memoised; the key
# includes the reference's modification time and size so that an edited reference is run again.
_PLAN_MEMO: dict[tuple[object, ...], GradingPlan] = {}
_PLAN_MEMO_SIZE = 64


def plan_exercise(
    exercise: Exercise, reference_runner: Runner | None = None, *, grade_seed: int | None = None
) -> GradingPlan:
    """The calls of ``exercise`` with the expected results, from its reference run in this process.

    ``grade_seed`` draws the random cases from a seed learners do not know (see
    :func:`draw_random_cases`). The reference is trusted course code, so it runs through :class:`InProcessRunner` (or the
    ``reference_runner`` given). Raises :class:`ReferenceSolutionError` if it is missing, fails a
    call, returns something non-numeric or modifies an input.
    """
    reference = exercise.reference
    try:
        stat = reference.stat()
    except OSError as exc:
        raise ReferenceSolutionError(f"reference solution for '{exercise.id}' not found: {reference}") from exc
    preload = _preload_sources(exercise)
    key = (str(reference.resolve()), stat.st_mtime_ns, stat.st_size, exercise.id, exercise.line, preload, grade_seed)
    cached = _PLAN_MEMO.get(key)
    if cached is not None and (cached.exercise is exercise or cached.exercise == exercise):
        return cached
    # A plan kept by an earlier command is reused only for the in-process reference run it replaces;
    # a caller that runs the reference elsewhere (validate, in the sandbox) wants that run itself.
    # Read once: the bytes the plan is keyed by are the bytes the reference run executes.
    source = Source(reference.name, _read_reference(exercise))
    stored_key = plancache.digest(exercise, source.data, preload, grade_seed)
    stored = plancache.load(stored_key) if reference_runner is None else None
    if stored is not None:
        plain_calls, plain_groups, expected = stored
        calls = tuple(Call(*call) for call in plain_calls)
        groups = tuple(CaseGroup(*group) for group in plain_groups)
    else:
        calls, groups = build_calls(exercise, grade_seed)
        job = Job(
            source=source,
            function=exercise.id,
            calls=tuple(call.args for call in calls),
            limits=limits_for(exercise),
            preload=preload,
        )
        if reference_runner is None:
            with InProcessRunner() as runner:
                run = runner.run(job)
        else:
            run = reference_runner.run(job)
        expected = _expected_values(exercise, calls, run)
        plancache.store(stored_key, [_plain(call) for call in calls], [_plain(group) for group in groups], expected)
    plan = GradingPlan(exercise, calls, groups, expected, preload, grade_seed)
    if len(_PLAN_MEMO) >= _PLAN_MEMO_SIZE:
        _PLAN_MEMO.pop(next(iter(_PLAN_MEMO)))
    _PLAN_MEMO[key] = plan
    return plan


def _read_reference(exercise: Exercise) -> bytes:
    try:
        return exercise.reference.read_bytes()
    except OSError as exc:
        raise ReferenceSolutionError(f"reference solution for '{exercise.id}' cannot be read: {exc}") from exc


def _preload_sources(exercise: Exercise) -> tuple[Source, ...]:
    """The reference solutions of the exercises ``exercise`` uses, as bytes read once."""
    sources = []
    for path in exercise.preload:
        try:
            sources.append(Source(path.name, path.read_bytes()))
        except OSError as exc:
            message = f"reference solution {path} used by '{exercise.id}' cannot be read: {exc}"
            raise ReferenceSolutionError(message) from exc
    return tuple(sources)


def _plain(record: Call | CaseGroup) -> tuple[Any, ...]:
    """A plan's record as plancache keeps it: its fields' values, in the order its class takes them."""
    return tuple(getattr(record, field.name) for field in fields(record))


def _expected_values(exercise: Exercise, calls: Sequence[Call], run: RunResult) -> tuple[np.ndarray, ...]:
    where = f"reference solution {exercise.reference}"
    if run.status is not RunStatus.OK or len(run.outcomes) != len(calls):
        raise ReferenceSolutionError(f"{where} did not run: {run.status.value}: {run.message}")
    expected = []
    for call, outcome in zip(calls, run.outcomes, strict=True):
        if outcome.error is not None:
            raise ReferenceSolutionError(f"{where} failed on case '{call.name}': {outcome.error}")
        if outcome.value is None or outcome.value.dtype.kind not in REAL_DTYPE_KINDS:
            raise ReferenceSolutionError(f"{where} returned {outcome.return_type} on case '{call.name}'")
        if any(outcome.inputs_modified):
            raise ReferenceSolutionError(f"{where} modified an input on case '{call.name}'")
        expected.append(outcome.value)
    return tuple(expected)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Judging
# ---------------------------------------------------------------------------------------------


def judge(plan: GradingPlan, run: RunResult, source: Path, lesson_id: str = "") -> ExerciseResult:
    """Judge a sandbox run of ``source`` against ``plan`` (rules in the module docstring).

    Hidden cases are judged like the others and marked ``hidden``; mistake hints come from the
    visible cases only. Once the learner's code has been called with a hidden case's inputs, what
    it printed is withheld, and so is the message of a run that ended inside a hidden case: both
    are text the code controls, and could carry those inputs out.
    """
    exercise = plan.exercise
    outcomes = run.outcomes
    cases: list[CaseResult] = []
    for index, (call, expected) in enumerate(zip(plan.calls, plan.expected, strict=True)):
        inputs = tuple(zip(exercise.parameters, call.args, strict=False))
        if index < len(outcomes):
            cases.append(judge_call(call, inputs, expected, outcomes[index], exercise.tolerance))
        else:
            status, reason = _unjudged(run, index - len(outcomes))
            cases.append(
                CaseResult(
                    call.name, call.group, status, (reason,), inputs, expected, None, "", None, (), hidden=call.hidden
                )
            )
    total_weight = sum(g.weight for g in plan.groups)
    groups = tuple(
        GroupResult(
            g.name,
            g.is_random,
            g.line,
            exercise.points * g.weight / total_weight,
            tuple(cases[g.start : g.start + g.count]),
            g.hidden,
        )
        for g in plan.groups
    )
    passed = sum(group.passed for group in groups)
    # Full marks are exactly the points, not a sum of rounded shares.
    score = exercise.points if passed == len(groups) else round(sum(group.score for group in groups), 6)
    overall = Status.graded(passed == len(groups), passed > 0)
    ok = run.status is RunStatus.OK
    attempted = plan.calls[: _calls_attempted(run, len(plan.calls))]
    withheld = any(call.hidden for call in attempted)
    stopped_in_hidden = not ok and len(outcomes) < len(attempted) and attempted[-1].hidden
    message = "" if ok else run.message
    if stopped_in_hidden:
        message = f"the run ended in a hidden case ({run.status.value.replace('_', ' ')})"
    evidence = _evidence(cases)
    # An exercise's own detectors evaluate its formulas (the formula reader's import, the first
    # time): built only when there are failing cases for them to read.
    detectors = plan.detectors if evidence else ()
    return ExerciseResult(
        lesson_id=lesson_id,
        exercise_id=exercise.id,
        title=exercise.title,
        source=source,
        status=overall,
        score=score,
        max_score=exercise.points,
        groups=groups,
        run_status=run.status,
        run_message=message,
        run_detail=run.detail,
        hints=diagnose(exercise.id, run.status, evidence, detectors),
        output="" if withheld else run.output,
        output_truncated=False if withheld else run.output_truncated,
        seconds=run.seconds,
        output_withheld=withheld and bool(run.output),
    )


def _calls_attempted(run: RunResult, total: int) -> int:
    """How many calls the learner's function was given: those with an outcome and the one it stopped in."""
    if run.status is RunStatus.OK:
        return total
    if run.status in _NOTHING_CALLED:
        return 0
    return min(total, len(run.outcomes) + 1)


# Run statuses meaning the function was never called (the file could not even be loaded).
_NOTHING_CALLED = frozenset(
    {
        RunStatus.SYNTAX_ERROR,
        RunStatus.IMPORT_ERROR,
        RunStatus.MISSING_FUNCTION,
        RunStatus.NOT_CALLABLE,
        RunStatus.EMPTY_FILE,
        RunStatus.UNREADABLE,
    }
)


# Mistake detectors compare every failing case against several formulas; a dozen cases (explicit
# ones first, in lesson order) are evidence enough, and batch grading must not pay for hundreds.
MAX_DIAGNOSED_CASES = 12


def _evidence(cases: Sequence[CaseResult]) -> list[CaseResult]:
    """The failing cases the mistake detectors look at: visible ones only, at most MAX_DIAGNOSED_CASES."""
    return [case for case in cases if not case.hidden and not case.passed][:MAX_DIAGNOSED_CASES]


def _unjudged(run: RunResult, calls_after_last_outcome: int) -> tuple[CaseStatus, str]:
    """Status and reason of a call with no outcome; ``0`` is the call the run stopped in."""
    if run.status is RunStatus.OK:
        # The sandbox reported fewer outcomes than calls without saying why: never a pass.
        return CaseStatus.FAILED, "no result was reported for this case"
    if run.status in _NOTHING_CALLED:
        return CaseStatus.NOT_RUN, f"not run: {run.message}"
    if calls_after_last_outcome == 0:
        return CaseStatus.FAILED, f"the run was stopped in this case: {run.message}"
    return CaseStatus.NOT_RUN, "not run: the run was stopped in an earlier case"


def judge_call(
    call: Call,
    inputs: tuple[tuple[str, object], ...],
    expected: np.ndarray,
    outcome: CallOutcome,
    tolerance: Tolerance,
) -> CaseResult:
    """Judge one call's outcome against the expected value (rules 1-5 of the module docstring)."""
    problems: list[str] = []
    differences: tuple[Difference, ...] = ()
    differing = 0
    got = outcome.value
    if outcome.error is not None:
        problems.append(f"raised {outcome.error.splitlines()[0]}")  # the traceback stays in .error
    elif got is None:
        problems.append(_describe_non_numeric(outcome.return_type, outcome.note))
    elif got.dtype.kind not in REAL_DTYPE_KINDS:
        problems.append(f"returned an array of dtype {got.dtype}, not of floats")
    elif got.shape != expected.shape:
        problems.append(_describe_shape_mismatch(got.shape, expected.shape))
    else:
        value_problems, differences, differing = _compare_values(got, expected, tolerance)
        problems += value_problems
    if any(outcome.inputs_modified):
        problems += [
            f"modified its input `{name}` in place"
            for (name, _), modified in zip(inputs, outcome.inputs_modified, strict=False)
            if modified
        ]
    return CaseResult(
        hidden=call.hidden,
        name=call.name,
        group=call.group,
        status=CaseStatus.FAILED if problems else CaseStatus.PASSED,
        problems=tuple(problems),
        inputs=inputs,
        expected=expected,
        got=got,
        return_type=outcome.return_type,
        error=outcome.error,
        inputs_modified=outcome.inputs_modified,
        differences=differences,
        differing_count=differing,
        seconds=outcome.seconds,
    )


def _describe_non_numeric(return_type: str, note: str | None) -> str:
    if note:
        return f"returned a {return_type} that cannot be graded: {note}"
    if return_type == "NoneType":
        return "returned None instead of a number or array"
    if not return_type:
        return "returned nothing that could be read"
    article = "an" if return_type[:1].lower() in "aeiou" else "a"
    return f"returned {article} {return_type}, not a float or numpy array"


def _describe_shape_mismatch(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    if want == ():
        return f"returned an array of shape {got} for scalar input; expected a float or a 0-d array"
    return f"returned shape {got}; expected shape {want} (the input's shape)"


def _compare_values(
    got: np.ndarray, expected: np.ndarray, tolerance: Tolerance
) -> tuple[list[str], tuple[Difference, ...], int]:
    if got.dtype == expected.dtype and got.tobytes() == expected.tobytes():
        return [], (), 0  # the very same numbers (nan and inf included) pass every rule
    have = got.astype(np.float64)
    want = expected.astype(np.float64)
    with np.errstate(all="ignore"):
        zero = want == 0.0
        nan = np.isnan(want)
        infinite = np.isinf(want)
        close = np.abs(have - want) <= tolerance.abs + tolerance.rel * np.abs(want)
        ok = np.where(
            zero,
            have == 0.0,
            np.where(nan, np.isnan(have), np.where(infinite, have == want, close & np.isfinite(have))),
        )
    bad = ~ok
    count = int(bad.sum())
    if not count:
        return [], (), 0
    problems = []
    wrong_zero = bad & zero
    tiny = bad & tiny_where_zero(have, want)
    if tiny.any():
        problems.append(_counted(tiny, have, "should be exactly 0.0 but {are} tiny and non-zero"))
    if (wrong_zero & ~tiny).any():
        problems.append(_counted(wrong_zero & ~tiny, have, "should be exactly 0.0 but {are} not"))
    not_finite = bad & ~zero & ~np.isfinite(have)
    if not_finite.any():
        problems.append(_counted(not_finite, have, "{are} nan or infinite where a finite number is expected"))
    other = bad & ~zero & ~not_finite
    if other.any():
        if got.ndim == 0:
            problems.append("the value differs from the expected one")
        else:
            problems.append(f"{int(other.sum())} of {got.size} entries differ from the expected values")
    if got.dtype.kind in INTEGER_DTYPE_KINDS:
        problems.append(f"the result has dtype {got.dtype}, which cannot hold fractions: compute and return floats")
    differences = tuple(
        Difference(tuple(int(i) for i in index), float(want[tuple(index)]), float(have[tuple(index)]))
        for index in np.argwhere(bad)[:MAX_DIFFERENCES]
    )
    return problems, differences, count


def _counted(mask: np.ndarray, have: np.ndarray, what: str) -> str:
    """E.g. "2 entries should be exactly 0.0 but are ... (e.g. 1e-12 at [3])"."""
    count = int(mask.sum())
    first = tuple(int(i) for i in np.argwhere(mask)[0])
    example = float(have[first])
    if have.ndim == 0:
        text = "the value " + what.format(are="is") + f" ({example!r})"
    else:
        subject = "1 entry" if count == 1 else f"{count} entries"
        where = "[" + ", ".join(str(i) for i in first) + "]"
        text = f"{subject} " + what.format(are="is" if count == 1 else "are") + f" (e.g. {example!r} at {where})"
    return text
