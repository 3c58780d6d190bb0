"""Rules stated once: the loader and the symbolic checker agree, and the wire speaks RunStatus."""

from __future__ import annotations

from pathlib import Path

import pytest

from quizkit.lesson import read_lesson
from quizkit.sandbox import RunStatus
from quizkit.sandbox.wire import CHILD_STATUSES
from quizkit.symbolic import spec_problems

SYMBOLIC_LESSON = """\
id: rules
title: Rules
description: One symbolic question.
questions:
  - id: gradient
    type: symbolic
    prompt: The gradient of the penalty.
    answer: lam*sign(w)
    variables: {{w: real, lam: positive}}
    tolerance: {tolerance}
    domain: {domain}
exercises: []
"""


def load_problems(tmp_path: Path, *, tolerance: str = "1e-9", domain: str = "{}") -> list[str]:
    path = tmp_path / "lesson.yaml"
    path.write_text(SYMBOLIC_LESSON.format(tolerance=tolerance, domain=domain), encoding="utf-8")
    _, problems = read_lesson(path, tmp_path)
    return [f"{problem.line}: {problem.message}" for problem in problems]


def test_every_child_status_is_a_run_status() -> None:
    assert set(CHILD_STATUSES) <= {status.value for status in RunStatus}


def test_a_symbolic_tolerance_of_one_or_more_is_refused_at_the_tolerance_line(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, tolerance="2")
    assert len(problems) == 1
    assert problems[0].startswith("10: tolerance must be a number between 0 and 1")


def test_a_domain_against_the_assumption_is_refused_by_the_loader(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, domain="{lam: [-1, 2]}")
    assert problems == ["11: the domain of 'lam' (-1, 2) goes below 0, but 'lam' is positive"]


@pytest.mark.parametrize(
    ("tolerance", "domain"),
    [("2", "{}"), ("0", "{}"), ("1e-9", "{lam: [-1, 2]}"), ("1e-9", "{v: [0, 1]}"), ("1e-9", "{w: [1, 0]}")],
)
def test_loader_and_symbolic_checker_state_the_same_problem(tmp_path: Path, tolerance: str, domain: str) -> None:
    import yaml

    from_loader = [problem.split(": ", 1)[1] for problem in load_problems(tmp_path, tolerance=tolerance, domain=domain)]
    from_checker = spec_problems({"w": "real", "lam": "positive"}, yaml.safe_load(domain), float(tolerance))
    assert from_loader == from_checker


def test_the_json_schema_states_the_symbolic_tolerance_rule() -> None:
    from quizkit.lesson_schema import json_schema
    from quizkit.rules import SYMBOLIC_TOLERANCE_BOUNDS

    found = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if "exclusiveMaximum" in value:
                found.append((value.get("exclusiveMinimum"), value["exclusiveMaximum"]))
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(json_schema())
    assert found == [SYMBOLIC_TOLERANCE_BOUNDS]


RANGES_LESSON = """\
id: ranges
title: Ranges
questions:
  - id: picture
    type: info
    text: A curve.
    plot:
      x: w
      range: [1, 0]
      curves: [{formula: w}]
  - id: key
    type: numeric
    prompt: A number.
    answer: 0.5
    bounds: [1, 0]
exercises: []
"""


def test_plot_ranges_and_key_bounds_are_checked_by_the_one_range_rule(tmp_path: Path) -> None:
    path = tmp_path / "lesson.yaml"
    path.write_text(RANGES_LESSON, encoding="utf-8")
    _, problems = read_lesson(path, tmp_path)
    assert [(problem.line, problem.message) for problem in problems] == [
        (9, "a range is [low, high]: two finite numbers with low < high"),
        (15, "bounds are [low, high]: two finite numbers with low <= high"),
    ]


def test_an_answer_over_the_length_limit_gets_one_message_from_the_judge_and_the_math_reader() -> None:
    from quizkit.lesson import ChoiceQuestion, Option
    from quizkit.mathparse import ParseError, precheck
    from quizkit.questions import judge
    from quizkit.rules import MAX_ANSWER_LENGTH

    answer = "a" * (MAX_ANSWER_LENGTH + 1)
    question = ChoiceQuestion("q", "Pick one.", 1.0, (), "", 1, options=(Option("yes", True), Option("no")))
    [judged] = judge(question, answer).feedback
    with pytest.raises(ParseError) as read:
        precheck(answer)
    assert read.value.message.startswith(judged)
    assert f"at most {MAX_ANSWER_LENGTH}" in judged


REVERSED_LOW_HIGH = """\
id: reversed
title: Reversed
questions:
  - id: key
    type: numeric
    prompt: A number.
    parameters: {a: {low: 1, high: 0, step: 0.5}}
    answer: 1
exercises:
  - id: double
    title: Double
    prompt: Double x.
    parameters: [x]
    random:
      - name: draws
        seed: 1
        count: 2
        args:
          x: {low: 1, high: 0}
"""


def test_a_parameter_range_and_a_generator_with_high_below_low_get_one_message_at_high(tmp_path: Path) -> None:
    path = tmp_path / "exercises" / "reversed" / "lesson.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(REVERSED_LOW_HIGH, encoding="utf-8")
    (path.parent / "double.py").write_text("def double(x):\n    raise NotImplementedError\n", encoding="utf-8")
    _, problems = read_lesson(path, tmp_path)
    assert [(problem.line, problem.column, problem.message) for problem in problems] == [
        (7, 36, "high must not be below low"),
        (19, 29, "high must not be below low"),
    ]
