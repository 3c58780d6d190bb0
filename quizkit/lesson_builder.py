"""Building a lesson: YAML text -> nodes with positions -> checked records -> the model.

The one place that turns checked records into model objects (:mod:`quizkit.lesson`) and checks what
spans several keys (duplicate ids, ``uses``, domains); it changes whenever the model does, while the
declarations (:mod:`quizkit.lesson_schema`) change with the file format. A built
:class:`~quizkit.lesson.Lesson` keeps the composed tree as its position map
(:class:`~quizkit.rawyaml.Positions`), so checks that run on the model (``quizkit validate``) place
their problems without reading the file again. Use :func:`quizkit.lesson.read_lesson`, which keeps
and reuses what this builds.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from quizkit import rawyaml, rules
from quizkit.casevalues import check_exercise_values
from quizkit.errors import Problem
from quizkit.lesson import (
    AnyQuestion,
    ArrayLiteral,
    Case,
    CaseValue,
    ChoiceQuestion,
    Curve,
    Exercise,
    ExpressionWrong,
    Generator,
    InfoItem,
    Lesson,
    Mistake,
    MultiQuestion,
    NumericQuestion,
    NumericWrong,
    Option,
    Parameter,
    Plot,
    RandomCases,
    Scoring,
    Sweep,
    SymbolicQuestion,
    Tolerance,
)
from quizkit.lesson_schema import LESSON
from quizkit.schema import INVALID, Checker, Record


def build(
    text: str, display: str, path: Path, solutions_dir: Path, *, formulas: bool = True
) -> tuple[Lesson | None, list[Problem]]:
    """The lesson in ``text`` (read from ``path``) and every problem found; no lesson if there is one."""
    root, problems = rawyaml.load(text, display)
    if root is None:
        return None, problems
    checker = Checker(display, problems, formulas=formulas)
    record = LESSON.check(root, checker)
    if record is INVALID:
        return None, checker.problems
    lesson = _build_lesson(record, path, solutions_dir, checker, rawyaml.Positions(display, root))
    if checker.problems:
        return None, checker.problems
    return lesson, []


def _build_lesson(
    record: Record, path: Path, solutions_dir: Path, checker: Checker, positions: rawyaml.Positions
) -> Lesson:
    seen: dict[str, int] = {}

    def claim_id(item: Record) -> None:
        item_id = item["id"]
        if item_id in seen:
            checker.error(item.at("id"), f"duplicate id '{item_id}' (first used on line {seen[item_id]})")
        else:
            seen[item_id] = item.at("id").line

    questions = []
    readings = []
    defaults = _scoring(record["defaults"], Scoring(), checker)
    for item in record["questions"]:
        claim_id(item)
        if item["type"] == "info":
            readings.append(_build_info(item, checker))
        else:
            questions.append(_build_question(item, defaults, checker))
    exercises = []
    for item in record["exercises"]:
        claim_id(item)
        exercises.append(_build_exercise(item, path.parent, solutions_dir, checker))
    # `uses` names other exercises, so it is resolved once all of them are built.
    exercises = [
        _resolve_uses(item, built, exercises, checker)
        for item, built in zip(record["exercises"], exercises, strict=False)
    ]
    return Lesson(
        id=record["id"],
        title=record["title"],
        description=record["description"],
        path=path,
        questions=tuple(questions),
        exercises=tuple(exercises),
        readings=tuple(readings),
        order=tuple(item["id"] for item in record["questions"]),
        positions=positions,
    )


def _tolerance(value: Record | None, default: Tolerance) -> Tolerance:
    if value is None:
        return default
    return Tolerance(abs=value["abs"] or 0.0, rel=value["rel"] or 0.0)


def _scoring(item: Record | None, defaults: Scoring, checker: Checker) -> Scoring:
    """The scoring keys written on ``item`` over ``defaults``."""
    if item is None:
        return defaults
    written = {
        name: item[name]
        for name in ("attempts", "attempt_scores", "hint_penalty", "retry_variant")
        if item[name] is not None
    }
    if "attempt_scores" in written:
        written["attempt_scores"] = tuple(float(v) for v in written["attempt_scores"])
    scoring = replace(defaults, **written)
    if item.written("attempt_scores") and len(scoring.attempt_scores) > scoring.attempts:
        checker.error(
            item.at("attempt_scores"), f"{len(scoring.attempt_scores)} scores for {scoring.attempts} attempt(s)"
        )
    return scoring


def _parameters(item: Record, checker: Checker) -> tuple[Parameter, ...]:
    if not item["parameters"]:
        return ()
    from fractions import Fraction  # exact values: 0.1 + 0.2 is 0.3 here

    parameters = []
    for name, spec in item["parameters"].items():
        if isinstance(spec, Record):
            if not _low_not_above_high(spec, checker):
                continue
            try:
                values = parameter_values(spec["low"], spec["high"], spec["step"])
            except ValueError as exc:
                checker.error(spec.node, str(exc))
                continue
        else:
            values = tuple(Fraction(repr(float(v))) for v in spec)
            if len(set(values)) != len(values):
                checker.error(item["parameters"].at(name), f"parameter '{name}' lists a value twice")
        parameters.append(Parameter(name, values))
    return tuple(parameters)


def _low_not_above_high(spec: Record, checker: Checker) -> bool:
    """Whether the ``low`` of a parameter range or a generator is at most its ``high`` (a problem
    at ``high`` when it is not)."""
    if spec["high"] < spec["low"]:
        checker.error(spec.at("high"), "high must not be below low")
        return False
    return True


def parameter_values(low: float, high: float, step: float) -> tuple[Fraction, ...]:
    """low, low + step, ..., up to high, exact (0.1 + 0.2 is 0.3 here); ``low <= high`` (see
    :func:`_low_not_above_high`). Raises ValueError for a step that does not fit."""
    from fractions import Fraction

    start, stop, size = (Fraction(repr(float(v))) for v in (low, high, step))
    count = (stop - start) / size
    if count.denominator != 1:
        raise ValueError(f"step {float(size):g} does not divide high - low = {float(stop - start):g}")
    if count >= 10_000:
        raise ValueError("a range of more than 10000 values")
    return tuple(start + k * size for k in range(int(count) + 1))


def _check_template(record: Record, key: str, names: tuple[str, ...], checker: Checker) -> None:
    text = record[key]
    if not isinstance(text, str) or not checker.formulas:
        return
    from quizkit.templates import template_problems

    for message in template_problems(text, names):
        checker.error(record.at(key), f"template: {message}")


def _check_formula(record: Record, key: str, names: tuple[str, ...], checker: Checker) -> bool:
    if not checker.formulas:
        return True
    from quizkit.formula import Formula, ParseError

    try:
        Formula(record[key], names)
    except ParseError as error:
        checker.error(record.at(key), f"formula {record[key]!r}: {error.message}")
        return False
    except ValueError as error:
        checker.error(record.at(key), f"formula {record[key]!r}: {error}")
        return False
    return True


def _range(record: Record, checker: Checker) -> tuple[float, float]:
    """The ``range: [low, high]`` of a plot or a sweep, checked."""
    low, high = record["range"][0], record["range"][-1]
    problem = rules.range_problem(record["range"])
    if problem is not None:
        checker.error(record.at("range"), f"a range is {problem}")
    return low, high


def _build_plot(record: Record | None, names: tuple[str, ...], checker: Checker) -> Plot | None:
    """A plot block; its formulas are read over x, each curve's ``each`` names and ``names``."""
    if record is None:
        return None
    low, high = _range(record, checker)
    curves = []
    for curve in record["curves"]:
        each = tuple((name, tuple(float(v) for v in values)) for name, values in curve["each"].items())
        curve_names = (record["x"], *(name for name, _ in each), *names)
        if len(set(curve_names)) != len(curve_names):
            checker.error(curve.node, "x, the 'each' names and the question's parameters must all be different")
            continue
        _check_formula(curve, "formula", curve_names, checker)
        if curve["label"] is not None:
            _check_template(curve, "label", curve_names[1:], checker)
        curves.append(Curve(curve["formula"], curve["label"] or curve["formula"], each))
    return Plot(record["x"], low, high, tuple(curves), record["title"] or "", record["mark_minima"], record["points"])


def _build_info(item: Record, checker: Checker) -> InfoItem:
    return InfoItem(
        id=item["id"],
        title=(item["title"] or "").strip(),
        text=item["text"].strip(),
        line=item.node.line,
        plot=_build_plot(item["plot"], (), checker),
    )


def _build_question(item: Record, defaults: Scoring, checker: Checker) -> AnyQuestion:
    parameters = _parameters(item, checker)
    names = tuple(p.name for p in parameters)
    scoring = _scoring(item, defaults, checker)
    if scoring.retry_variant and item.written("retry_variant") and not parameters:
        checker.error(
            item.at("retry_variant"), "retry_variant needs parameters: without them every variant is the same"
        )
    common = dict(
        id=item["id"],
        prompt=item["prompt"].strip(),
        points=item["points"],
        hints=tuple(h.strip() for h in item["hints"]),
        explanation=item["explanation"].strip(),
        line=item.node.line,
        parameters=parameters,
        scoring=scoring,
        plot=_build_plot(item["plot"], names, checker),
    )
    kind = item["type"]
    if parameters and checker.formulas:
        text_names = (*names, "answer") if kind == "numeric" else names
        for key in ("prompt", "explanation"):
            _check_template(item, key, text_names, checker)
        from quizkit.templates import template_problems

        for index, hint in enumerate(item["hints"]):
            for message in template_problems(hint, names):
                checker.error(_element(item.at("hints"), index), f"template: {message}")
        for wrong in item.get("wrong_answers", ()):
            _check_template(wrong, "feedback", text_names, checker)
    if kind in ("choice", "multi"):
        options = tuple(Option(o["text"].strip(), o["correct"], (o["feedback"] or "").strip()) for o in item["options"])
        _check_options(item, options, kind, checker)
        cls = ChoiceQuestion if kind == "choice" else MultiQuestion
        return cls(**common, options=options, shuffle=item["shuffle"])
    if kind == "numeric":
        return _build_numeric(item, common, names, checker)
    variables = tuple(item["variables"].items())
    clash = sorted(set(names) & set(item["variables"]))
    if clash:
        checker.error(item.at("parameters"), f"{', '.join(clash)} is both a parameter and a variable")
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


def _numeric_key(record: Record, names: tuple[str, ...], checker: Checker) -> tuple[float, str]:
    """(value, formula) of a numeric key or wrong answer: a number, or a formula over ``names``
    (computed now when there are no parameters, per variant otherwise)."""
    written = record["answer"]
    if isinstance(written, float):
        return written, ""
    if names:  # computed per variant; read here only when the formulas are checked
        _check_formula(record, "answer", names, checker)
        return math.nan, written
    if not _check_formula(record, "answer", names, checker):
        return math.nan, written
    from quizkit.formula import Formula, FormulaError, ParseError

    try:
        return Formula(written, ()).number({}), ""
    except ParseError as error:
        checker.error(record.at("answer"), f"formula {written!r}: {error.message}")
        return math.nan, ""
    except FormulaError as error:
        checker.error(record.at("answer"), str(error))
        return math.nan, ""


def _build_numeric(item: Record, common: dict[str, Any], names: tuple[str, ...], checker: Checker) -> NumericQuestion:
    tolerance = _tolerance(item["tolerance"], Tolerance(abs=1e-9, rel=1e-6))
    answer, formula = _numeric_key(item, names, checker)
    wrongs = []
    for wrong in item["wrong_answers"]:
        value, wrong_formula = _numeric_key(wrong, names, checker)
        wrongs.append(NumericWrong(value, wrong["feedback"].strip(), wrong_formula))
    bounds = None
    if item["bounds"] is not None:
        problem = rules.range_problem(item["bounds"], strict=False)
        if problem is not None:
            checker.error(item.at("bounds"), f"bounds are {problem}")
        else:
            bounds = (item["bounds"][0], item["bounds"][1])
    question = NumericQuestion(
        **common, answer=answer, tolerance=tolerance, wrong_answers=tuple(wrongs), formula=formula, bounds=bounds
    )
    # A key that is a number (or a formula without parameters) is checked now; one computed per
    # variant is checked by `quizkit validate`, variant by variant, with the same function.
    if not formula and math.isfinite(answer):
        for keys, message in numeric_key_problems(question):
            checker.error(rawyaml.descend(item.node, *keys), message)
    return question


def numeric_key_problems(question: NumericQuestion) -> list[tuple[tuple[str | int, ...], str]]:
    """What is wrong with the computed numbers of a numeric question (a fixed one, or one variant):
    a key that is not finite or lies outside the bounds, and wrong answers the key's tolerance
    accepts. Each problem comes with the keys of the value it is about, below the question."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    key = question.answer
    if not math.isfinite(key):
        found.append((("answer",), f"the key is {key}, not a finite number"))
    elif question.bounds is not None and not question.bounds[0] <= key <= question.bounds[1]:
        low, high = question.bounds
        found.append((("answer",), f"the key {key:g} is outside the bounds [{low:g}, {high:g}]"))
    for number, wrong in enumerate(question.wrong_answers):
        if not wrong.formula and question.tolerance.accepts(wrong.answer, key):
            message = f"this wrong answer ({wrong.answer:g}) is accepted as the key {key:g} by its tolerance"
            found.append((("wrong_answers", number, "answer"), message))
    return found


def _check_options(item: Record, options: tuple[Option, ...], kind: str, checker: Checker) -> None:
    if len(options) != len(item.at("options").value):
        return  # an option had problems of its own; counting the rest would only add noise
    correct = sum(o.correct for o in options)
    if kind == "choice" and correct != 1:
        found = "none is" if correct == 0 else f"{correct} are"
        checker.error(
            item.at("options"), f"a choice question needs exactly one correct option ({found} marked correct)"
        )
    if kind == "multi" and correct == 0:
        checker.error(item.at("options"), "a multi question needs at least one correct option")
    texts: dict[str, int] = {}
    for index, option in enumerate(options):
        if option.text in texts:
            node = _element(item.at("options"), index)
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
            _low_not_above_high(spec, checker)
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
    sweep = _build_sweep(item["sweep"], parameters, checker)
    mistakes = []
    for mistake in item["mistakes"]:
        if (mistake["formula"] is None) == (mistake["detector"] is None):
            checker.error(mistake.node, "a mistake has either a formula or a detector")
            continue
        if mistake["formula"] is not None:
            _check_formula(mistake, "formula", parameters, checker)
            if mistake["message"] is None:
                checker.error(mistake.node, "a mistake with a formula needs a message")
                continue
        mistakes.append(
            Mistake((mistake["message"] or "").strip(), mistake["formula"] or "", mistake["detector"] or "")
        )
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
        sweep=sweep,
        mistakes=tuple(mistakes),
    )


def _build_sweep(record: Record | None, parameters: tuple[str, ...], checker: Checker) -> Sweep | None:
    if record is None:
        return None
    low, high = _range(record, checker)
    if record["vary"] not in parameters:
        checker.error(record.at("vary"), f"'{record['vary']}' is not a parameter (parameters: {', '.join(parameters)})")
    fixed = record["args"]
    for name in fixed:
        if name not in parameters or name == record["vary"]:
            checker.error(fixed.node.key_nodes[name], f"'{name}' is not one of the other parameters")
    missing = [name for name in parameters if name != record["vary"] and name not in fixed]
    if missing:
        checker.error(record.node, f"the sweep needs a value for {', '.join(missing)} under 'args'")
    args = tuple((name, float(fixed[name])) for name in parameters if name in fixed)
    return Sweep(record["vary"], low, high, args, record["points"])


def _resolve_uses(item: Record, exercise: Exercise, exercises: list[Exercise], checker: Checker) -> Exercise:
    """``exercise`` with the reference files of the exercises it ``uses``, each checked to exist."""
    by_id = {other.id: other for other in exercises}
    preload = []
    for index, name in enumerate(exercise.uses):
        node = _element(item.at("uses"), index)
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
            checker.error(
                args.node.key_nodes[name], f"'{name}' is not a parameter (parameters: {', '.join(parameters)})"
            )
    missing = [name for name in parameters if name not in args]
    if missing:
        checker.error(args.node, f"missing argument(s): {', '.join(missing)}")


def _case_value(value: Any) -> CaseValue:
    if isinstance(value, Record):
        shape = tuple(value["shape"]) if value["shape"] is not None else None
        return ArrayLiteral(values=value["array"], shape=shape, dtype=value["dtype"])
    return value


def _element(node: rawyaml.Node, index: int) -> rawyaml.Node:
    """The ``index``-th item of a sequence node (the node itself when it is not a sequence)."""
    return node.value[index] if isinstance(node.value, list) and index < len(node.value) else node
