"""Mutation check: does every small bug in a reference solution fail at least one case?

A lesson's cases are only as good as the bugs they catch. This module makes simple, typical bugs
("mutants") in a reference solution with :mod:`ast` — a flipped or loosened comparison, a dropped
term, ``np.maximum`` for ``np.minimum``, a removed ``np.where`` — and judges each mutant exactly as a
learner's file would be judged. A mutant that passes every case *survives*: some behaviour of the
reference is not pinned down by any case, and a learner with that bug would get full marks.

Some mutants cannot be caught because they do not change behaviour at all (``x * 1.0`` → ``x``, or
``np.where(c, 0.0, x)`` → ``x`` when ``x`` is already zero wherever ``c`` holds). Telling these
apart exactly is undecidable, so a cheap approximation is used: each survivor is judged again on a
large *probe* — random cases built from the lesson's own cases and generators, with extra zeros and
ties so that boundaries are hit. A survivor that also passes the probe is reported as "equivalent,
ignored"; one that fails it is a real gap, and the failing probe case is exactly the case the lesson
is missing. A probe can miss a difference that only shows on inputs it never draws, so an
"equivalent" verdict is evidence, not proof.
"""

from __future__ import annotations

import ast
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from quizkit.lesson import ArrayLiteral, Case, CaseValue, Generator, RandomCases

if TYPE_CHECKING:
    from quizkit.exercises import ExerciseResult, GradingPlan
    from quizkit.sandbox import Runner

# Comparison operators and the mutants of each: (replacement, kind of change).
_COMPARE_MUTATIONS: dict[type[ast.cmpop], tuple[tuple[type[ast.cmpop], str], ...]] = {
    ast.Lt: ((ast.LtE, "boundary"), (ast.Gt, "direction")),
    ast.LtE: ((ast.Lt, "boundary"), (ast.GtE, "direction")),
    ast.Gt: ((ast.GtE, "boundary"), (ast.Lt, "direction")),
    ast.GtE: ((ast.Gt, "boundary"), (ast.LtE, "direction")),
    ast.Eq: ((ast.NotEq, "direction"),),
    ast.NotEq: ((ast.Eq, "direction"),),
}
# Functions (``np.maximum`` or builtin ``max`` alike) swapped for a similar one.
_FUNCTION_SWAPS = {
    "maximum": "minimum",
    "minimum": "maximum",
    "fmax": "fmin",
    "fmin": "fmax",
    "max": "min",
    "min": "max",
    "sign": "abs",
    "abs": "sign",
    "absolute": "sign",
    "floor": "ceil",
    "ceil": "floor",
    "any": "all",
    "all": "any",
    "logical_and": "logical_or",
    "logical_or": "logical_and",
    "greater": "less",
    "less": "greater",
    "greater_equal": "less_equal",
    "less_equal": "greater_equal",
}
# Functions replaced by one of their positional arguments: (argument index, hint template).
_CALL_TO_ARGUMENT = {
    "abs": ((0, "no case where `{arg0}` is negative"),),
    "absolute": ((0, "no case where `{arg0}` is negative"),),
    "fabs": ((0, "no case where `{arg0}` is negative"),),
    "where": (
        (1, "no case where `{arg0}` is false somewhere (and that entry matters)"),
        (2, "no case where `{arg0}` is true somewhere (and that entry matters)"),
    ),
    "clip": ((0, "no case with a value of `{arg0}` outside the clip range"),),
    "maximum": ((0, "no case where `{arg1}` > `{arg0}`"), (1, "no case where `{arg0}` > `{arg1}`")),
    "minimum": ((0, "no case where `{arg1}` < `{arg0}`"), (1, "no case where `{arg0}` < `{arg1}`")),
    "copysign": ((0, "no case where the signs of `{arg0}` and `{arg1}` differ"),),
}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
}
_REPLACEMENT_CONSTANTS = (0, 1, 1e-12)
# Keyword arguments whose constants are configuration, not arithmetic (mutating them only crashes).
_STRUCTURAL_KEYWORDS = frozenset({"axis", "dtype", "ndmin", "copy", "order", "keepdims"})

# The probe: draws per group, and more zeros and boundary ties than lessons usually ask for.
PROBE_DRAWS = 150
_PROBE_SEED = 20_240_917
_PROBE_ZEROS = 0.2
_PROBE_TIES = 0.25
_SIGNIFICANT_DIGITS = 2  # probe values are rounded so that an example case reads well


@dataclass(frozen=True)
class Mutant:
    """One small change to a reference solution, with enough context to explain it."""

    line: int
    column: int
    operator: str  # kind of change, e.g. "comparison boundary"
    original: str  # the smallest readable expression around the change, before ...
    mutated: str  # ... and after
    hint: str  # what kind of case would tell the mutant from the reference
    source: str  # the whole mutated module

    def describe(self) -> str:
        return f"`{self.original}` → `{self.mutated}`"


@dataclass(frozen=True)
class _Slot:
    """Where a node hangs in its parent, so it can be swapped out and back."""

    parent: ast.AST
    field: str
    index: int | None  # position in a list field, or None for a single-node field

    def set(self, node: ast.AST) -> None:
        if self.index is None:
            setattr(self.parent, self.field, node)
        else:
            getattr(self.parent, self.field)[self.index] = node


@dataclass(frozen=True)
class _Change:
    """One way to change an operator of a reference: the new node and the hint that names the change."""

    operator: str
    replacement: ast.AST
    hint: str


def generate_mutants(source: str) -> list[Mutant]:
    """Every distinct mutant of the functions in ``source`` that still compiles, in source order.

    Raises SyntaxError if ``source`` itself does not parse.
    """
    tree = ast.parse(source)
    baseline = ast.unparse(tree)
    slots = dict(_function_body_slots(tree))
    seen = {baseline}
    mutants: list[Mutant] = []
    for node, slot in slots.items():
        context = _context_node(node, slots)
        before = ast.unparse(context)
        for change in _changes(node):
            slot.set(change.replacement)
            try:
                mutated_source = ast.unparse(tree)
                after = ast.unparse(context) if context is not node else ast.unparse(change.replacement)
            finally:
                slot.set(node)
            if mutated_source in seen or not _compiles(mutated_source):
                continue
            seen.add(mutated_source)
            mutants.append(
                Mutant(
                    line=node.lineno,  # type: ignore[attr-defined]
                    column=node.col_offset + 1,  # type: ignore[attr-defined]
                    operator=change.operator,
                    original=before,
                    mutated=after,
                    hint=change.hint,
                    source=mutated_source + "\n",
                )
            )
    return mutants


def _function_body_slots(tree: ast.Module) -> Iterator[tuple[ast.AST, _Slot]]:
    """Statements and expressions inside function bodies (not docstrings, defaults or annotations)."""
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for function in functions:
        for index, statement in enumerate(function.body):
            if index == 0 and _is_docstring(statement):
                continue
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue  # nested definitions are visited as functions of their own
            yield statement, _Slot(function, "body", index)
            yield from _descendant_slots(statement)


def _descendant_slots(node: ast.AST) -> Iterator[tuple[ast.AST, _Slot]]:
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for index, child in enumerate(value):
                if isinstance(child, (ast.expr, ast.stmt)) and not isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                    yield child, _Slot(node, field, index)
                    yield from _descendant_slots(child)
                elif isinstance(child, ast.keyword) and child.arg not in _STRUCTURAL_KEYWORDS:
                    yield from _descendant_slots(child)
        elif isinstance(value, (ast.expr, ast.stmt)):
            yield value, _Slot(node, field, None)
            yield from _descendant_slots(value)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _context_node(node: ast.AST, slots: dict[ast.AST, _Slot]) -> ast.AST:
    """The expression shown for a change: a lone constant or name means little without its parent."""
    if isinstance(node, (ast.Constant, ast.Name, ast.Attribute, ast.UnaryOp)) and node in slots:
        parent = slots[node].parent
        if isinstance(parent, ast.expr):
            return parent
    return node


def _compiles(source: str) -> bool:
    try:
        compile(source, "<mutant>", "exec")
    except SyntaxError:
        return False
    return True


def _changes(node: ast.AST) -> Iterator[_Change]:
    """The mutations of one node (its children are mutated on their own visits)."""
    if isinstance(node, ast.Compare):
        yield from _compare_changes(node)
    elif isinstance(node, ast.BinOp):
        yield from _binop_changes(node)
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.USub, ast.Not)):
            yield _Change(
                "unary operator removed",
                node.operand,
                f"no case where the sign of `{ast.unparse(node.operand)}` matters",
            )
    elif isinstance(node, ast.BoolOp):
        swapped = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield _Change(
            "and/or swapped", ast.BoolOp(op=swapped, values=node.values), "no case where only one condition holds"
        )
    elif isinstance(node, ast.Constant):
        yield from _constant_changes(node)
    elif isinstance(node, ast.Call):
        yield from _call_changes(node)
    elif isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.UnaryOp) and isinstance(node.value.op, ast.USub)):
            negated = ast.Return(value=ast.UnaryOp(op=ast.USub(), operand=node.value))
            yield _Change("result negated", _located(negated, node), "no case with a nonzero result")
    elif isinstance(node, (ast.Assign, ast.AugAssign)) and _writes_into_existing(node):
        yield _Change(
            "statement removed", _located(ast.Pass(), node), "no case where this statement changes the result"
        )
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        yield _Change("statement removed", _located(ast.Pass(), node), "no case where this call changes the result")


def _writes_into_existing(node: ast.Assign | ast.AugAssign) -> bool:
    """An in-place update (``out[mask] = 0``, ``x += d``): removing it leaves a runnable program."""
    if isinstance(node, ast.AugAssign):
        return True
    return all(isinstance(target, (ast.Subscript, ast.Attribute)) for target in node.targets)


def _located(new: ast.AST, old: ast.AST) -> ast.AST:
    return ast.copy_location(ast.fix_missing_locations(ast.copy_location(new, old)), old)


def _compare_changes(node: ast.Compare) -> Iterator[_Change]:
    operands = [node.left, *node.comparators]
    for index, op in enumerate(node.ops):
        for replacement, kind in _COMPARE_MUTATIONS.get(type(op), ()):
            ops = list(node.ops)
            ops[index] = replacement()
            left, right = ast.unparse(operands[index]), ast.unparse(operands[index + 1])
            if kind == "boundary":
                hint = f"no case has `{left}` equal to `{right}` exactly"
            else:
                hint = f"no case where the outcome of `{left} {_symbol(op)} {right}` matters"
            yield _Change(
                f"comparison {kind}", ast.Compare(left=node.left, ops=ops, comparators=node.comparators), hint
            )


def _symbol(op: ast.cmpop) -> str:
    return ast.unparse(ast.Compare(left=ast.Name("a"), ops=[op], comparators=[ast.Name("b")]))[2:-2]


def _binop_changes(node: ast.BinOp) -> Iterator[_Change]:
    left, right = ast.unparse(node.left), ast.unparse(node.right)
    if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        yield _Change("term dropped", node.left, f"no case where `{right}` changes the result")
    if isinstance(node.op, (ast.Add, ast.Mult)):
        yield _Change("term dropped", node.right, f"no case where `{left}` changes the result")
    swapped = _BINOP_SWAPS.get(type(node.op))
    if swapped is not None:
        yield _Change(
            "operator swapped",
            ast.BinOp(left=node.left, op=swapped(), right=node.right),
            f"no case where `{right}` changes the result",
        )


def _constant_changes(node: ast.Constant) -> Iterator[_Change]:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    for replacement in _REPLACEMENT_CONSTANTS:
        if replacement != value:
            yield _Change(
                "constant replaced", ast.Constant(value=replacement), f"no case where the constant {value!r} matters"
            )


def _call_changes(node: ast.Call) -> Iterator[_Change]:
    name = _function_name(node.func)
    if name is None:
        return
    swapped = _FUNCTION_SWAPS.get(name)
    if swapped is not None:
        yield _Change(
            "function swapped",
            ast.Call(func=_renamed(node.func, swapped), args=node.args, keywords=node.keywords),
            f"no case where `{name}` and `{swapped}` give different results here",
        )
    arguments = {f"arg{i}": ast.unparse(arg) for i, arg in enumerate(node.args)}
    for index, hint in _CALL_TO_ARGUMENT.get(name, ()):
        if index < len(node.args) and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args):
            yield _Change("call removed", node.args[index], hint.format_map(_Default(arguments)))


class _Default(dict):
    """format_map helper: a missing argument prints as '?' instead of raising."""

    def __missing__(self, key: str) -> str:
        return "?"


def _function_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _renamed(func: ast.expr, name: str) -> ast.expr:
    if isinstance(func, ast.Name):
        return ast.Name(id=name, ctx=ast.Load())
    assert isinstance(func, ast.Attribute)
    return ast.Attribute(value=func.value, attr=name, ctx=ast.Load())


# ---------------------------------------------------------------------------------------------
# Judging mutants
# ---------------------------------------------------------------------------------------------


class Fate(str, Enum):
    """What became of a mutant."""

    KILLED = "killed"  # fails at least one case: the cases catch this bug
    SURVIVED = "survived"  # passes every case, but the probe shows it behaves differently
    EQUIVALENT = "equivalent"  # passes every case and the probe too: most likely harmless


@dataclass(frozen=True)
class MutantVerdict:
    """A mutant and its fate."""

    mutant: Mutant
    fate: Fate
    example: str = ""  # for a survivor: ``args`` of a case that exposes it, ready to paste into the lesson

    @property
    def message(self) -> str:
        """What the instructor should know about this mutant (without its position)."""
        if self.fate is Fate.KILLED:
            return f"mutant {self.mutant.describe()} is caught by the cases"
        if self.fate is Fate.EQUIVALENT:
            return f"equivalent mutant, ignored: {self.mutant.describe()} (the probe found no input where it differs)"
        text = f"surviving mutant {self.mutant.describe()}: {self.mutant.hint}"
        return text + (f"; a case that catches it: args: {self.example}" if self.example else "")


@dataclass(frozen=True)
class MutationReport:
    """The fate of every mutant of one exercise's reference."""

    reference: Path
    verdicts: tuple[MutantVerdict, ...]

    def _with(self, fate: Fate) -> tuple[MutantVerdict, ...]:
        return tuple(v for v in self.verdicts if v.fate is fate)

    @property
    def survivors(self) -> tuple[MutantVerdict, ...]:
        return self._with(Fate.SURVIVED)

    @property
    def equivalent(self) -> tuple[MutantVerdict, ...]:
        return self._with(Fate.EQUIVALENT)

    @property
    def killed(self) -> tuple[MutantVerdict, ...]:
        return self._with(Fate.KILLED)

    def describe(self, verdict: MutantVerdict) -> str:
        """``path:line:col: surviving mutant `a <= t` → `a < t`: ...``"""
        return f"{self.reference}:{verdict.mutant.line}:{verdict.mutant.column}: {verdict.message}"


def check_mutants(
    plan: GradingPlan, runner: Runner, *, workers: int = 2, probe_draws: int = PROBE_DRAWS
) -> MutationReport:
    """Judge every mutant of ``plan``'s reference against the plan's cases, then survivors on a probe.

    Mutants run through ``runner`` exactly like learner files, so a mutant that loops forever is
    ended by the exercise's time limit. ``plan`` is the exercise's grading plan: expected values come
    from the real reference.
    """
    exercise = plan.exercise
    mutants = generate_mutants(exercise.reference.read_text(encoding="utf-8"))
    fates = {index: MutantVerdict(mutant, Fate.KILLED) for index, mutant in enumerate(mutants)}
    with tempfile.TemporaryDirectory(prefix="quizkit-mutants-") as folder:
        files = _write_mutants(mutants, Path(folder), exercise.reference.name)
        for index, result in _judged(plan, files, runner, workers):
            if result.is_correct:  # equivalent until the probe shows a difference
                fates[index] = MutantVerdict(mutants[index], Fate.EQUIVALENT)
        probes = probe_plans(plan, probe_draws) if _with_fate(fates, Fate.EQUIVALENT) else []
        for probe in probes:
            candidates = {index: files[index] for index in _with_fate(fates, Fate.EQUIVALENT)}
            for index, result in _judged(probe, candidates, runner, workers):
                failing = next((case for case in result.cases if not case.passed), None)
                if failing is not None:
                    fates[index] = MutantVerdict(mutants[index], Fate.SURVIVED, yaml_args(failing.inputs))
    return MutationReport(exercise.reference, tuple(fates[index] for index in range(len(mutants))))


def _with_fate(fates: dict[int, MutantVerdict], fate: Fate) -> list[int]:
    return [index for index, verdict in fates.items() if verdict.fate is fate]


def _write_mutants(mutants: list[Mutant], folder: Path, name: str) -> dict[int, Path]:
    """Each mutant in a folder of its own, under the reference's file name (tracebacks name it)."""
    files = {}
    for index, mutant in enumerate(mutants):
        path = folder / f"mutant{index:03d}" / name
        path.parent.mkdir()
        path.write_text(mutant.source, encoding="utf-8")
        files[index] = path
    return files


def _judged(
    plan: GradingPlan, files: dict[int, Path], runner: Runner, workers: int
) -> Iterator[tuple[int, ExerciseResult]]:
    """(mutant index, its result on ``plan``) for every file, in completion order."""
    from quizkit.grading import Task, grade_tasks

    tasks = (Task(plan, path, key=index, uses=plan.preload) for index, path in files.items())  # the instructor's code
    for task, result in grade_tasks(tasks, runner, workers=workers):
        yield task.key, result  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# The probe: many extra cases, drawn like the lesson's own, with more zeros and ties
# ---------------------------------------------------------------------------------------------


def probe_plans(plan: GradingPlan, draws: int = PROBE_DRAWS) -> list[GradingPlan]:
    """Grading plans for the probe, one per kind of input the exercise's cases use.

    Each probe group is planned on its own: a group whose inputs the reference rejects (say, a
    negative value where only positive ones are meant) is dropped rather than spoiling the others.
    """
    from quizkit.exercises import (
        ReferenceSolutionError,
        draw_random_cases,
        plan_exercise,
    )

    exercise = plan.exercise
    plans = []
    for number, group in enumerate(_probe_groups(plan, draws)):
        rounded = [
            tuple(_rounded(value, group) for value in args) for args in draw_random_cases(group, exercise.parameters)
        ]
        cases = tuple(
            Case(
                f"probe {number + 1}.{draw}",
                tuple(zip(exercise.parameters, map(_case_value, args), strict=False)),
                exercise.line,
            )
            for draw, args in enumerate(rounded, 1)
        )
        try:
            plans.append(plan_exercise(replace(exercise, cases=cases, random=())))
        except ReferenceSolutionError:
            continue
    return plans


def _probe_groups(plan: GradingPlan, draws: int) -> list[RandomCases]:
    """The lesson's random blocks with more zeros and ties, plus blocks shaped like its explicit cases."""
    exercise = plan.exercise
    groups = []
    for offset, block in enumerate(exercise.random, 1):
        generators = tuple((name, _boosted(generator)) for name, generator in block.args)
        groups.append(RandomCases(f"probe of {block.name}", _PROBE_SEED + offset, draws, generators, block.line))
    explicit = [call.args for call in plan.calls[: len(exercise.cases)]]
    for kind in ("array", "scalar"):
        like = _generators_like(exercise.parameters, explicit, kind)
        if like is not None:
            seed = _PROBE_SEED + 100 + len(groups)
            groups.append(RandomCases(f"probe of {kind} cases", seed, draws, like, exercise.line))
    return groups


def _boosted(generator: Generator) -> Generator:
    """The same distribution with more entries exactly at 0 and (if it has ties) at the boundary."""
    shape = (3,) if generator.shape is not None and len(generator.shape) == 1 else generator.shape
    has_ties = generator.ties_with is not None
    zeros = max(generator.zeros, _PROBE_ZEROS)
    ties = max(generator.ties, _PROBE_TIES) if has_ties else 0.0
    scale = zeros + ties
    if scale > 1:
        zeros, ties = zeros / scale, ties / scale
    return replace(generator, shape=shape, zeros=zeros, ties=ties)


def _generators_like(
    parameters: tuple[str, ...], explicit: list[tuple[object, ...]], kind: str
) -> tuple[tuple[str, Generator], ...] | None:
    """Generators drawing values of the size the explicit cases use.

    For ``kind == "array"`` every parameter that some case passes as an array gets 3-entry float
    vectors (and the others scalars); for ``"scalar"`` every parameter that some case passes as a
    Python float gets floats. None when no case uses that kind of input.
    """
    import numpy as np

    arrays = {
        name
        for args in explicit
        for name, value in zip(parameters, args, strict=False)
        if isinstance(value, np.ndarray) and value.ndim > 0
    }
    scalars = {
        name for args in explicit for name, value in zip(parameters, args, strict=False) if isinstance(value, float)
    }
    if kind == "array" and not arrays:
        return None
    if kind == "scalar" and (not scalars or not scalars >= arrays):
        return None  # some parameter is only ever an array: scalars for it would be outside the task
    # With one scalar-only parameter (a threshold, a rate), data entries are also drawn equal to +/- it.
    scalar_only = [name for name in parameters if name not in arrays]
    tie_target = scalar_only[0] if len(scalar_only) == 1 else None
    generators = []
    for index, name in enumerate(parameters):
        values = np.concatenate(
            [np.ravel(np.asarray(args[index], dtype=np.float64)) for args in explicit] or [np.zeros(0)]
        )
        values = values[np.isfinite(values) & (np.abs(values) <= 1e6)]  # huge edge values say nothing about scale
        size = float(np.max(np.abs(values))) if values.size and np.any(values) else 1.0
        # Arrays are data and get both signs; a scalar that no case makes negative is taken to be a
        # parameter such as a threshold or a rate, whose negative values are meaningless.
        only_nonnegative = name not in arrays and values.size and np.all(values >= 0)
        low = 0.0 if only_nonnegative else -2 * size
        shape = (3,) if kind == "array" and name in arrays else None
        is_target = tie_target is not None and name in arrays
        generators.append(
            (
                name,
                Generator(
                    shape=shape,
                    low=low,
                    high=2 * size,
                    zeros=_PROBE_ZEROS,
                    ties_with=tie_target if is_target else None,
                    ties=_PROBE_TIES if is_target else 0.0,
                ),
            )
        )
    return tuple(generators)


def _rounded(value: object, group: RandomCases) -> object:
    """``value`` rounded to a few significant digits of its generator's range (ties stay ties)."""
    import numpy as np

    largest = max((max(abs(g.low), abs(g.high)) for _, g in group.args), default=1.0) or 1.0
    decimals = max(0, _SIGNIFICANT_DIGITS - math.floor(math.log10(largest)))
    if isinstance(value, np.ndarray):
        return np.round(value, decimals)
    return round(float(value), decimals)  # type: ignore[arg-type]


def _case_value(value: object) -> CaseValue:
    """A drawn argument written back as a case value (so that it can be shown as YAML)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return ArrayLiteral(float(value), dtype=str(value.dtype))
        if value.dtype == np.float64:
            return value.tolist()
        return ArrayLiteral(value.tolist(), dtype=str(value.dtype))
    return float(value)  # type: ignore[arg-type]


def yaml_args(inputs: tuple[tuple[str, object], ...]) -> str:
    """``{w: [0.7, -0.2, 0.0], threshold: 0.2}``: a case's arguments as lesson YAML, ready to paste."""
    import numpy as np

    def number(value: float) -> str:
        if math.isnan(value):
            return ".nan"
        return (".inf" if value > 0 else "-.inf") if math.isinf(value) else repr(value)

    def nested(value: object) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(nested(item) for item in value) + "]"
        return number(float(value))  # type: ignore[arg-type]

    def text(value: object) -> str:
        if not isinstance(value, np.ndarray):
            return number(float(value))  # type: ignore[arg-type]
        body = nested(value.astype(np.float64).tolist())
        if value.ndim == 0:
            return f"{{array: {body}}}"
        if value.size == 0 and value.ndim > 1:
            return f"{{array: [], shape: {list(value.shape)}}}"
        return body if value.dtype == np.float64 else f"{{array: {body}, dtype: {value.dtype}}}"

    return "{" + ", ".join(f"{name}: {text(value)}" for name, value in inputs) + "}"
