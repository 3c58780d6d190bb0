"""Loading lesson files: every problem is reported as ``file:line:col: message``, all in one pass."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
from conftest import capped

from quizkit.errors import LessonError, Problem
from quizkit.lesson import ChoiceQuestion, NumericQuestion, load_lesson, read_lesson

REPO = Path(__file__).resolve().parent.parent
DEMO = Path(__file__).resolve().parent / "data" / "course" / "exercises" / "demo" / "lesson.yaml"

EXERCISE = """\
exercises:
  - id: double
    title: Double it
    prompt: Return 2 * x.
    parameters: [x]
    cases:
      - name: two
        args: {x: 2.0}
"""


def write_lesson(tmp_path: Path, text: str, starters: tuple[str, ...] = ("double.py",)) -> Path:
    """Write ``text`` as exercises/x/lesson.yaml of a course in ``tmp_path``, with starter files."""
    folder = tmp_path / "course" / "exercises" / "x"
    folder.mkdir(parents=True, exist_ok=True)
    for name in starters:
        (folder / name).write_text("def double(x):\n    raise NotImplementedError\n", encoding="utf-8")
    path = folder / "lesson.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_in(tmp_path: Path, text: str, **kwargs: tuple[str, ...]) -> list[Problem]:
    lesson, problems = read_lesson(write_lesson(tmp_path, text, **kwargs))
    assert (lesson is None) == bool(problems)
    return problems


def at(text: str, token: str, *, line_with: str | None = None, nth: int = 1) -> tuple[int, int]:
    """1-based (line, column) of ``token`` on the ``nth`` line containing ``line_with`` (default: token)."""
    marker = line_with or token
    lines = [(number, line) for number, line in enumerate(textwrap.dedent(text).splitlines(), 1) if marker in line]
    number, line = lines[nth - 1]
    return number, line.index(token) + 1


def assert_reported(problems: list[Problem], position: tuple[int, int], fragment: str) -> Problem:
    """Exactly one problem at ``position`` mentions ``fragment``."""
    matching = [p for p in problems if (p.line, p.column) == position and fragment in p.message]
    found = "\n".join(map(str, problems))
    assert len(matching) == 1, f"no problem at {position} mentioning {fragment!r}; got:\n{found}"
    return matching[0]


@pytest.mark.parametrize("collecting", [True, False])
def test_loading_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path, collecting: bool) -> None:
    # Loading pauses it (see quizkit.lesson); a lesson with problems, one that loads, and one from
    # the cache must all hand it back in the state the caller had it.
    import gc

    if not collecting:
        gc.disable()
    try:
        assert problems_in(tmp_path / "broken", "id: x\ntitle: [\n")
        for _ in range(2):  # built, then from the cache
            assert read_lesson(write_lesson(tmp_path, "id: x\ntitle: X\n" + EXERCISE), formulas=False)[0] is not None
            assert gc.isenabled() is collecting
    finally:
        gc.enable()


# --- YAML level -------------------------------------------------------------------------------


def test_a_loaded_lesson_keeps_where_each_value_was_written(tmp_path: Path) -> None:
    text = "id: x\ntitle: X\n" + EXERCISE
    lesson = load_lesson(write_lesson(tmp_path, text))
    assert lesson.positions is not None
    problem = lesson.positions.problem("here", "exercises", 0, "cases", 0, "args", "x")
    assert (problem.line, problem.column) == at(text, "2.0")
    # A key that is not written places the problem at the deepest value that is.
    assert lesson.positions.node("exercises", 0, "reference").line == at(text, "id: double")[0]


def test_yaml_syntax_error_reports_line_and_column(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\n  bad: 1\n"
    problems = problems_in(tmp_path, text)
    assert len(problems) == 1
    assert_reported(problems, at(text, ": 1"), "YAML syntax error")


def test_tab_indentation_is_a_syntax_error_at_the_tab(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\nquestions:\n- id: q\n  type: choice\n\tprompt: P\n"
    problems = problems_in(tmp_path, text)
    assert_reported(problems, (6, 1), "YAML syntax error")


def test_empty_file_is_reported(tmp_path: Path) -> None:
    problems = problems_in(tmp_path, "")
    assert [(p.line, p.column) for p in problems] == [(1, 1)]
    assert "empty" in problems[0].message


def test_file_with_only_comments_is_empty(tmp_path: Path) -> None:
    problems = problems_in(tmp_path, "# nothing here yet\n")
    assert_reported(problems, (1, 1), "empty")


def test_duplicate_yaml_key_reports_the_second_key(tmp_path: Path) -> None:
    text = """\
    id: x
    title: First
    title: Second
    """
    problems = problems_in(tmp_path, text)
    problem = assert_reported(problems, at(text, "title", line_with="Second"), "duplicate key 'title'")
    assert "line 2" in problem.message


def test_a_key_that_is_not_text_is_reported_at_the_key(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\n? [a, b]\n: 1\n"
    assert_reported(problems_in(tmp_path, text), at(text, "[a, b]"), "a key must be plain text")


def test_a_merge_key_is_reported_at_the_key(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\n<<: {description: D}\n"
    assert_reported(problems_in(tmp_path, text), at(text, "<<"), "merge keys ('<<') are not supported")


def test_a_value_under_a_refused_key_adds_no_problems_of_its_own(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\ntitle: !!binary aGk=\n"
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "title", line_with="binary"), "duplicate key 'title'")
    assert not [p for p in problems if "tag" in p.message]


def test_a_problem_inside_an_anchored_value_is_reported_for_each_alias(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\na: &v {k: !!binary aGk=}\nb: *v\n"
    tags = [p for p in problems_in(tmp_path, text) if "YAML tag" in p.message]
    assert len(tags) == 2 and {(p.line, p.column) for p in tags} == {at(text, "!!binary")}


def test_python_tag_is_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    text = f"""\
    id: x
    title: !!python/object/apply:os.system ["touch {marker}"]
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "!!python"), "python/object/apply:os.system")
    assert not marker.exists()


def test_python_name_tag_on_a_scalar_is_refused(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    description: !!python/name:os.system
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "!!python"), "not allowed")


def test_multi_document_file_points_at_the_second_document(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    ---
    id: y
    title: U
    """
    problems = problems_in(tmp_path, text)
    separator_line = at(text, "---")[0]
    matching = [p for p in problems if "one YAML document" in p.message]
    assert len(matching) == 1
    assert matching[0].line in (separator_line, separator_line + 1)


def test_multi_document_file_is_refused(tmp_path: Path) -> None:
    problems = problems_in(tmp_path, "id: x\ntitle: T\n---\nid: y\ntitle: U\n")
    assert any("one YAML document" in p.message for p in problems)


# --- schema level -----------------------------------------------------------------------------


def test_unknown_key_reports_line_and_column_with_suggestion(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: q
        type: numeric
        promt: How much?
        answer: 1
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "promt"), "unknown key 'promt' in numeric question (did you mean 'prompt'?)")


def test_unknown_key_without_close_match_lists_known_keys(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    colour: red
    """
    problems = problems_in(tmp_path, text)
    problem = assert_reported(problems, at(text, "colour"), "unknown key 'colour'")
    assert "known keys: id, title" in problem.message


def test_text_where_number_expected_reports_value_position(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: q
        type: numeric
        prompt: How much?
        answer: 1
        points: many
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "many"), "expected a number, found text ('many')")


def test_list_where_text_expected_reports_value_position(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: q
        type: numeric
        prompt: [how, much]
        answer: 1
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "["), "expected text, found a sequence")


def test_missing_required_key_points_at_the_mapping_that_lacks_it(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: q
        type: numeric
        answer: 1
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "id: q"), "missing required key 'prompt'")


def test_missing_lesson_title_is_reported_at_the_top(tmp_path: Path) -> None:
    problems = problems_in(tmp_path, "id: x\n")
    assert_reported(problems, (1, 1), "missing required key 'title'")


@pytest.mark.parametrize("word", ["yes", "no", "on"])
def test_yaml11_boolean_word_asks_for_true_or_false(tmp_path: Path, word: str) -> None:
    text = f"""\
    id: x
    title: T
    questions:
      - id: q
        type: choice
        prompt: Pick one.
        shuffle: {word}
        options:
          - text: A
            correct: true
          - text: B
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, word, line_with="shuffle"), f"write true or false, not '{word}'")


def test_no_as_option_text_is_read_as_text(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: q
        type: choice
        shuffle: false
        prompt: Is every L1 weight zero?
        options:
          - text: no
            correct: true
          - text: yes
    """
    lesson = load_lesson(write_lesson(tmp_path, text))
    question = lesson.questions[0]
    assert isinstance(question, ChoiceQuestion)
    assert [option.text for option in question.options] == ["no", "yes"]


def test_exponent_without_decimal_point_is_a_number(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: q
        type: numeric
        prompt: How small?
        answer: 1e-3
        tolerance: {abs: 1E-6}
    """
    question = load_lesson(write_lesson(tmp_path, text)).questions[0]
    assert isinstance(question, NumericQuestion)
    assert question.answer == 0.001
    assert question.tolerance.abs == 1e-6


def test_unknown_question_type_lists_the_known_types(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: q
        type: essay
        prompt: Discuss.
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "essay"), "expected one of choice, multi, numeric, symbolic")


# --- consistency checks -----------------------------------------------------------------------


def test_duplicate_question_id_reports_the_second_id(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: same
        type: numeric
        prompt: One?
        answer: 1
      - id: same
        type: numeric
        prompt: Two?
        answer: 2
    """
    problems = problems_in(tmp_path, text)
    problem = assert_reported(problems, at(text, "same", nth=2), "duplicate id 'same'")
    assert "line 4" in problem.message


def test_exercise_id_clashing_with_question_id_is_a_duplicate(tmp_path: Path) -> None:
    questions = """\
    id: x
    title: T
    questions:
      - id: double
        type: numeric
        prompt: Twice 2?
        answer: 4
    """
    text = textwrap.dedent(questions) + EXERCISE
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "double", line_with="- id: double", nth=2), "duplicate id 'double'")


CHOICE_WITH = """\
id: x
title: T
questions:
  - id: q
    type: {kind}
    prompt: Pick.
    options:
      - text: A{a}
      - text: B{b}
"""
CORRECT = "\n        correct: true"


def test_choice_question_without_correct_option(tmp_path: Path) -> None:
    text = CHOICE_WITH.format(kind="choice", a="", b="")
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "- text: A"), "exactly one correct option (none is marked correct)")


def test_choice_question_with_two_correct_options(tmp_path: Path) -> None:
    text = CHOICE_WITH.format(kind="choice", a=CORRECT, b=CORRECT)
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "- text: A"), "exactly one correct option (2 are marked correct)")


def test_multi_question_without_correct_option(tmp_path: Path) -> None:
    text = CHOICE_WITH.format(kind="multi", a="", b="")
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "- text: A"), "at least one correct option")


def test_multi_question_with_one_correct_option_loads(tmp_path: Path) -> None:
    lesson = load_lesson(write_lesson(tmp_path, CHOICE_WITH.format(kind="multi", a=CORRECT, b="")))
    assert lesson.questions[0].type == "multi"


def test_numeric_wrong_answer_that_the_tolerance_accepts(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: q
        type: numeric
        prompt: How much?
        answer: 0.3
        tolerance: {abs: 1e-3}
        wrong_answers:
          - answer: 0.3005
            feedback: Too close to be wrong.
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "0.3005"), "is accepted as the key 0.3 by its tolerance")


SYMBOLIC = """\
id: x
title: T
questions:
  - id: grad
    type: symbolic
    prompt: d/dw of lam*|w| for w != 0?
    answer: lam*sign(w)
"""


def test_symbolic_question_without_variables(tmp_path: Path) -> None:
    problems = problems_in(tmp_path, SYMBOLIC)
    assert_reported(problems, at(SYMBOLIC, "id: grad"), "missing required key 'variables'")


def test_unknown_assumption_reports_its_position(tmp_path: Path) -> None:
    text = SYMBOLIC + "    variables: {w: real, lam: happy}\n"
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "happy"), "expected one of real, positive")


def test_domain_naming_unknown_variable_points_at_the_name(tmp_path: Path) -> None:
    text = SYMBOLIC + "    variables: {w: real, lam: positive}\n    domain:\n      z: [0, 1]\n"
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "z:"), "domain names 'z'")


def test_domain_naming_unknown_variable_is_reported_on_its_line(tmp_path: Path) -> None:
    text = SYMBOLIC + "    variables: {w: real, lam: positive}\n    domain:\n      z: [0, 1]\n"
    problems = problems_in(tmp_path, text)
    assert [p.line for p in problems if "domain names 'z'" in p.message] == [at(text, "z:")[0]]


EXERCISE_WITH_CASES = """\
id: x
title: T
exercises:
  - id: double
    title: Double it
    prompt: Return 2 * x.
    parameters: [w, lam]
    cases:
      - name: c
        args: {cases}
"""


def test_exercise_case_naming_a_non_parameter(tmp_path: Path) -> None:
    text = EXERCISE_WITH_CASES.format(cases="{w: 1, lam: 2, y: 3}")
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "y: 3"), "'y' is not a parameter (parameters: w, lam)")


def test_exercise_case_missing_an_argument(tmp_path: Path) -> None:
    text = EXERCISE_WITH_CASES.format(cases="{w: 1}")
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "{w: 1}"), "missing argument(s): lam")


WEIGHTED = """\
id: x
title: T
exercises:
  - id: double
    title: Double it
    prompt: Return 2 * x.
    parameters: [x]
    cases:
      - name: plain
        args: {x: 2.0}
      - name: edge
        args: {x: 0.0}
        weight: WEIGHT
    random:
      - name: r
        seed: 1
        count: 2
        args: {x: {low: -1, high: 1}}
        weight: 3
"""


def test_case_and_random_block_weights_are_read_with_default_one(tmp_path: Path) -> None:
    lesson, problems = read_lesson(write_lesson(tmp_path, WEIGHTED.replace("WEIGHT", "0.25")))
    assert not problems and lesson is not None
    exercise = lesson.exercises[0]
    assert [case.weight for case in exercise.cases] == [1.0, 0.25]
    assert exercise.random[0].weight == 3.0


def test_a_weight_of_zero_is_refused_at_its_position(tmp_path: Path) -> None:
    text = WEIGHTED.replace("WEIGHT", "0")
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "0", line_with="weight: 0"), "")


USES = """\
id: x
title: T
exercises:
  - id: double
    title: Double it
    prompt: Return 2 * x.
    parameters: [x]
    cases:
      - name: two
        args: {x: 2.0}
  - id: quadruple
    title: Quadruple it
    prompt: Return double(double(x)).
    parameters: [x]
    uses: [USED]
    cases:
      - name: two
        args: {x: 2.0}
"""


def test_uses_preloads_the_reference_of_the_named_exercise(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, USES.replace("USED", "double"), starters=("double.py", "quadruple.py"))
    lesson = load_lesson(path)
    quadruple = lesson.exercise("quadruple")
    assert quadruple is not None and quadruple.uses == ("double",)
    assert quadruple.preload == (tmp_path / "course" / "solutions" / "x" / "double.py",)
    assert lesson.exercises[0].preload == ()


def test_uses_naming_an_unknown_exercise_lists_the_known_ones(tmp_path: Path) -> None:
    text = USES.replace("USED", "triple")
    problems = problems_in(tmp_path, text, starters=("double.py", "quadruple.py"))
    assert_reported(problems, at(text, "triple"), "'triple' is not an exercise of this lesson (exercises: double)")


def test_an_exercise_cannot_use_itself(tmp_path: Path) -> None:
    text = USES.replace("USED", "quadruple")
    problems = problems_in(tmp_path, text, starters=("double.py", "quadruple.py"))
    assert_reported(problems, at(text, "quadruple", line_with="uses:"), "cannot use itself")


def test_ties_with_pointing_to_a_non_scalar_argument(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    exercises:
      - id: double
        title: Double it
        prompt: Return 2 * x.
        parameters: [w, lam]
        random:
          - name: r
            seed: 1
            count: 3
            args:
              w: {shape: [3], low: -1, high: 1, ties_with: lam, ties: 0.2}
              lam: {shape: [2], low: 0, high: 1}
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "lam", line_with="ties_with"), "ties_with must name a scalar argument")


def test_missing_starter_file_points_at_the_starter_key_value(tmp_path: Path) -> None:
    text = EXERCISE.replace("    parameters", "    starter: missing.py\n    parameters")
    text = "id: x\ntitle: T\n" + text
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "missing.py"), "starter file not found")


def test_missing_default_starter_file_points_at_the_exercise(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\n" + EXERCISE
    problems = problems_in(tmp_path, text, starters=())
    problem = assert_reported(problems, at(text, "id: double"), "starter file not found")
    assert problem.message.endswith("double.py")


# --- all problems, one pass, one format -------------------------------------------------------


FIVE_PROBLEMS = """\
id: x
title: T
colour: red
questions:
  - id: q1
    type: choice
    prompt: Pick.
    prompt: Pick again.
    shuffle: yes
    options:
      - text: A
        correct: true
      - text: B
  - id: q2
    type: essay
    prompt: Discuss.
  - id: q3
    type: numeric
    prompt: How much?
    answer: lots
"""


def test_five_problems_are_all_reported_in_one_pass(tmp_path: Path) -> None:
    problems = problems_in(tmp_path, FIVE_PROBLEMS)
    positions = sorted((p.line, p.column) for p in problems)
    assert positions == sorted(
        [
            at(FIVE_PROBLEMS, "colour"),
            at(FIVE_PROBLEMS, "prompt", line_with="Pick again"),
            at(FIVE_PROBLEMS, "yes"),
            at(FIVE_PROBLEMS, "essay"),
            at(FIVE_PROBLEMS, "lots"),
        ]
    )


def test_consistency_problems_are_reported_alongside_schema_problems(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: q1
        type: numeric
        prompt: How much?
        answer: 1
        points: many
      - id: q2
        type: choice
        prompt: Pick.
        options:
          - text: A
          - text: B
    """
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "many"), "expected a number")
    assert_reported(problems, at(text, "- text: A"), "exactly one correct option")


def test_problems_read_as_file_line_column_message(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\ncolour: red\n"
    path = write_lesson(tmp_path, text)
    _, problems = read_lesson(path)
    assert [str(p) for p in problems] == [
        f"{path}:3:1: unknown key 'colour' in lesson (known keys: id, title, description, defaults, questions, exercises)"
    ]


def test_load_lesson_raises_one_error_carrying_every_problem(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, FIVE_PROBLEMS)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    assert len(info.value.problems) == 5
    assert info.value.exit_code == 1
    message = info.value.format_message()
    assert message.startswith("5 problems in lesson file:")
    assert all(str(p) in message for p in info.value.problems)


def test_missing_lesson_file_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    lesson, problems = read_lesson(tmp_path / "nowhere" / "lesson.yaml")
    assert lesson is None
    assert [(p.line, p.column, p.message) for p in problems] == [(1, 1, "file not found")]


# --- the model --------------------------------------------------------------------------------


def test_demo_lesson_loads() -> None:
    lesson = load_lesson(DEMO)
    assert [q.type for q in lesson.questions] == ["choice", "multi", "numeric"]
    assert [e.id for e in lesson.exercises] == ["double"]
    assert lesson.exercises[0].starter.name == "double.py"


def test_real_lesson3_loads() -> None:
    lesson = load_lesson(REPO / "exercises" / "lesson3" / "lesson.yaml")
    assert lesson.id == "lesson3"
    assert lesson.questions and lesson.exercises


def test_loaded_lesson_is_immutable() -> None:
    lesson = load_lesson(DEMO)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lesson.title = "changed"  # type: ignore[misc]


def test_loaded_questions_and_options_are_immutable() -> None:
    question = load_lesson(DEMO).questions[0]
    assert isinstance(question, ChoiceQuestion)
    with pytest.raises(dataclasses.FrozenInstanceError):
        question.prompt = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        question.options[0].correct = True  # type: ignore[misc]
    assert isinstance(question.options, tuple) and isinstance(question.hints, tuple)


def test_loaded_exercise_is_immutable() -> None:
    exercise = load_lesson(DEMO).exercises[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        exercise.time_limit = 100.0  # type: ignore[misc]


def test_cases_and_random_blocks_can_be_marked_hidden(tmp_path: Path) -> None:
    text = """\
        id: x
        title: X
        exercises:
          - id: double
            title: Double it
            prompt: Return 2 * x.
            parameters: [x]
            cases:
              - name: shown
                args: {x: 2.0}
              - name: kept back
                hidden: true
                args: {x: 3.0}
            random:
              - name: draws
                hidden: true
                seed: 1
                count: 2
                args:
                  x: {low: -1, high: 1}
    """
    [exercise] = load_lesson(write_lesson(tmp_path, text)).exercises
    assert [case.hidden for case in exercise.cases] == [False, True]
    assert exercise.random[0].hidden


def test_hidden_must_be_true_or_false(tmp_path: Path) -> None:
    text = EXERCISE.replace("        args: {x: 2.0}", "        hidden: sometimes\n        args: {x: 2.0}")
    text = "id: x\ntitle: X\n" + text
    assert_reported(problems_in(tmp_path, text), at(text, "sometimes"), "expected true or false")


# --- bounds on the YAML itself ----------------------------------------------------------------

LESSON3 = REPO / "exercises" / "lesson3" / "lesson.yaml"


def test_recursive_alias_is_a_problem_at_the_alias(tmp_path: Path) -> None:
    text = "id: x\ntitle: &a [*a]\n"
    problems = problems_in(tmp_path, text)
    assert_reported(problems, at(text, "*a"), "recursive alias")


def test_undefined_alias_is_a_problem_at_the_alias_naming_it(tmp_path: Path) -> None:
    text = "id: x\ntitle: *missing\n"
    assert_reported(problems_in(tmp_path, text), at(text, "*missing"), "found undefined alias 'missing'")


def test_duplicate_anchor_is_a_problem_at_the_second_one_naming_the_first(tmp_path: Path) -> None:
    text = "id: &a x\ntitle: &a T\n"
    problem = assert_reported(problems_in(tmp_path, text), at(text, "&a T"), "found duplicate anchor 'a'")
    assert "starts at 1:5" in problem.message


def test_a_syntax_error_after_an_undefined_alias_is_the_problem_reported(tmp_path: Path) -> None:
    text = "id: *missing\ntitle: [\n"
    [problem] = problems_in(tmp_path, text)
    assert "syntax error" in problem.message and "alias" not in problem.message


def test_nesting_950_deep_is_a_problem_not_a_recursion_error(tmp_path: Path) -> None:
    text = "id: x\ntitle: " + "[" * 950 + "]" * 950 + "\n"
    problems = problems_in(tmp_path, text)
    assert_reported(problems, (2, 7 + 100), "nested more than 100 levels")  # the mapping is level 1


def alias_bomb(levels: int, width: int) -> str:
    names = [f"l{level}" for level in range(levels)]
    lines = ["id: x", "title: T", f"bomb0: &{names[0]} [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"bomb{level}: &{names[level]} [" + ", ".join([f"*{names[level - 1]}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_of_nine_levels_of_nine_is_refused_at_an_alias(tmp_path: Path) -> None:
    with capped():  # expanded, the bomb would take gigabytes
        problems = problems_in(tmp_path, alias_bomb(9, 9))
    [problem] = problems
    assert "aliases here would be expanded more than" in problem.message
    assert problem.line > 3


def test_wide_alias_of_many_values_is_refused_by_the_node_bound(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\nbig: &b [" + ", ".join(["1"] * 2000) + "]\nmore: [" + ", ".join(["*b"] * 60) + "]\n"
    with capped():
        [problem] = problems_in(tmp_path, text)
    assert "more than 100000 values once aliases are expanded" in problem.message


def test_an_ordinary_alias_still_works(tmp_path: Path) -> None:
    text = """\
    id: x
    title: T
    questions:
      - id: a
        type: choice
        prompt: P
        hints: &shared [Look at the sign.]
        options: [{text: one, correct: true}, {text: two}]
      - id: b
        type: choice
        prompt: P
        hints: *shared
        options: [{text: one, correct: true}, {text: two}]
    """
    lesson, problems = read_lesson(write_lesson(tmp_path, text))
    assert problems == []
    assert lesson is not None and lesson.questions[1].hints == ("Look at the sign.",)


def test_unclosed_quote_is_reported_where_it_starts(tmp_path: Path) -> None:
    lines = LESSON3.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[12].startswith("    prompt: >-")
    lines[12] = lines[12].replace("prompt: ", 'prompt: "', 1)
    path = tmp_path / "lesson.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    [problem] = read_lesson(path)[1]
    assert "YAML syntax error" in problem.message
    assert "a quoted string that starts at 13:13 may be unclosed" in problem.message
    assert "block mapping, which starts at 11:5" in problem.message  # the context mark


def test_quote_left_open_to_the_end_of_the_file_is_reported_where_it_starts(tmp_path: Path) -> None:
    text = "id: x\ntitle: 'T\nquestions: []\n"
    [problem] = problems_in(tmp_path, text)
    assert "a quoted string that starts at 2:8 may be unclosed" in problem.message


def test_syntax_error_without_a_quote_gives_no_quote_hint(tmp_path: Path) -> None:
    [problem] = problems_in(tmp_path, "id: x\ntitle: T\n  bad: 1\n")
    assert "quoted" not in problem.message


def test_directory_named_lesson_yaml_is_a_problem_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "lesson.yaml"
    path.mkdir()
    [problem] = read_lesson(path)[1]
    assert "it is a directory, not a regular file" in problem.message


def test_non_utf8_lesson_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "lesson.yaml"
    path.write_bytes(b"id: x\ntitle: \xff\n")
    [problem] = read_lesson(path)[1]
    assert "not UTF-8" in problem.message


# --- case values and random blocks numpy would refuse ------------------------------------------

ONE_CASE = """\
id: x
title: T
exercises:
  - id: double
    title: Double it
    prompt: Return 2 * x.
    parameters: [x]
    cases:
      - name: c
        args: {{x: {value}}}
"""

ONE_BLOCK = """\
id: x
title: T
exercises:
  - id: double
    title: Double it
    prompt: Return 2 * x.
    parameters: [x]
    random:
      - name: r
        seed: 1
        count: {count}
        args:
          x: {spec}
"""


@pytest.mark.parametrize(
    ("value", "token", "fragment"),
    [
        ("[[1, 2], [3]]", "[3]", "ragged array"),
        ("[1, [2]]", "[2]", "ragged array"),
        ("{array: [1, 2, 3, 4], shape: [3]}", "[3]", "shape [3] holds 3 values, but the array has 4"),
        ("{array: [1, .nan], dtype: int64}", ".nan", "cannot be stored in an int64 array"),
        ("{array: [1e300], dtype: int64}", "1e300", "outside the range of int64"),
        ("{array: [2.5], dtype: int64}", "2.5", "not a whole number"),
        ("{array: [1e300], dtype: float32}", "1e300", "too large for float32"),
        ("{array: " + "[" * 65 + "1" + "]" * 65 + "}", "[[", "65 dimensions; numpy allows at most 64"),
        ("{array: [], shape: [0, 100000, 100000]}", "[0, 100000", "too large"),
    ],
    ids=[
        "ragged",
        "ragged-mixed",
        "shape-mismatch",
        "int-nan",
        "int-1e300",
        "int-fraction",
        "float32-overflow",
        "65-dims",
        "empty-huge",
    ],
)
def test_case_value_numpy_would_refuse_is_reported_in_the_case(
    tmp_path: Path, value: str, token: str, fragment: str
) -> None:
    text = ONE_CASE.format(value=value)
    assert_reported(problems_in(tmp_path, text), at(text, token, line_with="args:"), fragment)


@pytest.mark.parametrize(
    ("count", "spec", "token", "fragment"),
    [
        (1, "{low: -1e308, high: 1e308}", "1e308}", "high - low is too large"),
        (1, "{low: 0.5, high: 0.6, dtype: int64}", "0.5", "no whole number lies in [0.5, 0.6]"),
        (1, "{low: 0, high: 1e300, dtype: int64}", "0,", "within the int64 range"),
        (1, "{low: 0, high: 1e300, dtype: float32}", "0,", "within ±3.4e38"),
        (1, "{shape: [100000, 100000], low: 0, high: 1}", "[100000", "too large"),
        (8, "{shape: [3000, 3000], low: 0, high: 1}", "[3000", "too large"),
        (100, "{shape: [40, 40], low: 0, high: 1}", "100", "at most 100,000 per random block"),
    ],
    ids=[
        "float-overflow",
        "int-empty-range",
        "int-out-of-range",
        "float32-bounds",
        "shape-1e10",
        "3000x3000",
        "elements-x-count",
    ],
)
def test_random_block_numpy_would_refuse_is_reported_in_the_block(
    tmp_path: Path, count: int, spec: str, token: str, fragment: str
) -> None:
    text = ONE_BLOCK.format(count=count, spec=spec)
    line_with = "count:" if token == str(count) else "x:"
    assert_reported(problems_in(tmp_path, text), at(text, token, line_with=line_with), fragment)


def test_count_above_1000_is_refused(tmp_path: Path) -> None:
    text = ONE_BLOCK.format(count=10000, spec="{low: 0, high: 1}")
    assert_reported(problems_in(tmp_path, text), at(text, "10000"), "must be at most 1000")


def test_more_calls_than_one_grading_job_can_describe_are_refused(tmp_path: Path) -> None:
    blocks = "".join(
        f"      - name: r{i}\n        seed: {i}\n        count: 1000\n        args:\n          x: {{low: 0, high: 1}}\n"
        for i in range(9)
    )
    text = ONE_BLOCK.split("    random:\n")[0] + "    random:\n" + blocks
    assert_reported(problems_in(tmp_path, text), at(text, "- name: r0"), "too many calls to grade in one job")


BOUNDARY_VALUES = [
    "{array: [9.2e18, -9.2e18], dtype: int64}",
    "{array: [3.4e38, -3.4e38], dtype: float32}",
    "{array: [], shape: [0, 3]}",
    "{array: 2.0, shape: [1, 1]}",
    "{array: " + "[" * 32 + "1" + "]" * 32 + "}",
    "[[.nan, .inf], [-.inf, 1e308]]",
]
BOUNDARY_BLOCKS = [
    "{low: 0.5, high: 1.5, dtype: int64}",
    "{low: -9.2e18, high: 9.2e18, dtype: int64}",
    "{low: -3.4e38, high: 3.4e38, dtype: float32}",
    "{low: -8e307, high: 8e307}",
    "{shape: [0, 100000], low: 0, high: 1}",
]


@pytest.mark.parametrize("value", BOUNDARY_VALUES)
def test_case_value_that_loads_can_be_built_by_numpy(tmp_path: Path, value: str) -> None:
    from quizkit.exercises import to_argument

    lesson, problems = read_lesson(write_lesson(tmp_path, ONE_CASE.format(value=value)))
    assert problems == [] and lesson is not None
    [(_, case_value)] = lesson.exercises[0].cases[0].args
    to_argument(case_value)


@pytest.mark.parametrize("spec", BOUNDARY_BLOCKS)
def test_random_block_that_loads_can_be_drawn_by_numpy(tmp_path: Path, spec: str) -> None:
    from quizkit.exercises import draw_random_cases

    lesson, problems = read_lesson(write_lesson(tmp_path, ONE_BLOCK.format(count=3, spec=spec)))
    assert problems == [] and lesson is not None
    exercise = lesson.exercises[0]
    assert len(draw_random_cases(exercise.random[0], exercise.parameters)) == 3


def test_control_character_is_reported_at_its_position_on_one_line(tmp_path: Path) -> None:
    [problem] = problems_in(tmp_path, "id: x\ntitle: a\x1bb\n")
    assert (problem.line, problem.column) == (2, 9)
    assert problem.message == "character U+001B is not allowed in YAML (control characters are not allowed)"


def test_memory_limit_beyond_what_the_sandbox_can_set_is_refused(tmp_path: Path) -> None:
    text = "id: x\ntitle: T\n" + EXERCISE.replace("    parameters", "    memory_mb: 1e300\n    parameters")
    assert_reported(problems_in(tmp_path, text), at(text, "1e300"), "must be at most 1048576, found 1e300")
