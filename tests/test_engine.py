"""The question engine: parameters and variants, attempts and the score policy, reading items, plots.

Each test writes a small course of its own into ``tmp_path`` (one lesson, ``engine``), so the
behaviour is specified here rather than by the content of lesson 3.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import Result
from conftest import invoke

from quizkit.lesson import NumericQuestion, load_lesson, read_lesson
from quizkit.variants import fill, resolve, variant_count, variant_for, variant_values

LESSON = """\
id: engine
title: Engine
defaults: {attempts: 2, attempt_scores: [1, 0.5], hint_penalty: 0.25}
questions:
  - id: intro
    type: info
    title: A worked example
    text: One step moves a weight toward zero by alpha times lam.
  - id: step
    type: numeric
    parameters:
      w: {low: 0.3, high: 0.9, step: 0.1}
      lam: [0.2, 0.5]
    prompt: "w = {w}, alpha = 0.1, lam = {lam}: the new w?"
    answer: "= w - 0.1*lam"
    hints: ["Subtract {0.1*lam:.2f}."]
    wrong_answers:
      - answer: "= w + 0.1*lam"
        feedback: "Away from zero: that is {w} + {0.1*lam}."
    explanation: "{w} - 0.1*{lam} = {answer}"
  - id: pick
    type: choice
    attempts: 1
    prompt: Pick b.
    options:
      - text: A
      - text: B
        correct: true
    shuffle: false
"""


def write_course(root: Path, text: str = LESSON) -> Path:
    lesson = root / "exercises" / "engine" / "lesson.yaml"
    lesson.parent.mkdir(parents=True)
    lesson.write_text(text, encoding="utf-8")
    return lesson


@pytest.fixture
def course(tmp_path: Path, home: Path) -> Path:
    write_course(tmp_path / "course")
    return tmp_path / "course"


def run(course: Path, *args: object, input: str | None = None) -> Result:
    return invoke(["--course", course, *args], input)


def saved(home: Path) -> dict:
    return json.loads((home / "progress" / "engine.json").read_text(encoding="utf-8"))


def step_question(course: Path) -> NumericQuestion:
    question = load_lesson(course / "exercises" / "engine" / "lesson.yaml").question("step")
    assert isinstance(question, NumericQuestion)
    return question


# --- variants ---------------------------------------------------------------------------------


def test_a_range_with_a_step_gives_exact_values(course: Path) -> None:
    question = step_question(course)
    assert [float(v) for v in question.parameters[0].values] == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert variant_count(question.parameters) == 14


def test_the_variant_of_a_seed_is_always_the_same(course: Path) -> None:
    question = step_question(course)
    assert len({variant_for(question, 1234) for _ in range(5)}) == 1


def test_a_retry_on_new_numbers_gets_another_variant(tmp_path: Path) -> None:
    question = load_lesson(
        write_course(tmp_path, LESSON.replace('    prompt: "w = {w}', '    retry_variant: true\n    prompt: "w = {w}'))
    ).question("step")
    assert question is not None and question.scoring.retry_variant
    for seed in range(30):
        first, second = variant_for(question, seed, 1), variant_for(question, seed, 2)
        assert first != second and second == variant_for(question, seed, 2)


def test_different_seeds_get_different_variants(course: Path) -> None:
    question = step_question(course)
    assert len({variant_for(question, seed) for seed in range(40)}) > 5


def test_a_resolved_variant_has_its_numbers_in_prompt_key_and_feedback(course: Path) -> None:
    question = step_question(course)
    index = next(
        i
        for i in range(14)
        if {k: float(v) for k, v in variant_values(question.parameters, i).items()} == {"w": 0.4, "lam": 0.5}
    )
    shown = resolve(question, index)
    assert shown.prompt == "w = 0.4, alpha = 0.1, lam = 0.5: the new w?"
    assert shown.answer == pytest.approx(0.35)
    assert shown.wrong_answers[0].answer == pytest.approx(0.45)
    assert shown.wrong_answers[0].feedback == "Away from zero: that is 0.4 + 0.05."
    assert shown.hints == ("Subtract 0.05.",)
    assert shown.explanation == "0.4 - 0.1*0.5 = 0.35"


def test_template_braces_are_escaped_by_doubling() -> None:
    assert fill("{{w}} = {w:.1f}", {"w": 0.25}) == "{w} = 0.2"


def test_check_takes_a_variant(course: Path) -> None:
    question = step_question(course)
    key = resolve(question, 3).answer
    result = run(course, "check", "engine", "step", f"{key}", "--variant", 3, "--json")
    assert result.exit_code == 0
    assert json.loads(result.output)["variant"] == 3


def test_check_with_a_seed_judges_that_learners_variant(course: Path) -> None:
    question = step_question(course)
    key = resolve(question, variant_for(question, 77)).answer
    assert run(course, "check", "engine", "step", f"{key}", "--seed", 77).exit_code == 0


def test_check_refuses_a_variant_the_question_does_not_have(course: Path) -> None:
    result = run(course, "check", "engine", "step", "0.3", "--variant", 14)
    assert result.exit_code == 2
    assert "has 14 variant(s)" in result.output


BROKEN_WRONG_ANSWER = LESSON.replace('answer: "= w + 0.1*lam"', 'answer: "= w + 0.1*lam - 0.2*lam"')


def test_validate_reports_a_wrong_answer_equal_to_the_key_at_its_line(tmp_path: Path, home: Path) -> None:
    path = write_course(tmp_path / "course", BROKEN_WRONG_ANSWER)
    result = invoke(["validate", path])
    assert result.exit_code == 1
    line = BROKEN_WRONG_ANSWER.splitlines().index('      - answer: "= w + 0.1*lam - 0.2*lam"') + 1
    assert (
        f"lesson.yaml:{line}:17: variant 0 (w = 0.3, lam = 0.2): this wrong answer (0.28) is accepted as the key"
        in result.output
    )


def test_validate_reports_a_key_that_cannot_be_computed_for_one_variant(tmp_path: Path, home: Path) -> None:
    text = LESSON.replace('answer: "= w - 0.1*lam"', 'answer: "= w - 0.1/(lam - 0.5)"')
    path = write_course(tmp_path / "course", text)
    result = invoke(["validate", path])
    line = text.splitlines().index('    answer: "= w - 0.1/(lam - 0.5)"') + 1
    assert f"lesson.yaml:{line}:13: variant 1 (w = 0.3, lam = 0.5): cannot compute" in result.output
    assert "divides by zero" in result.output


def test_validate_reports_a_key_outside_its_bounds(tmp_path: Path, home: Path) -> None:
    text = LESSON.replace('    explanation: "{w}', '    bounds: [0, 0.5]\n    explanation: "{w}')
    path = write_course(tmp_path / "course", text)
    result = invoke(["validate", path])
    assert "is outside the bounds [0, 0.5]" in result.output


def test_a_template_naming_an_unknown_parameter_is_a_loading_error(tmp_path: Path) -> None:
    text = LESSON.replace("lam = {lam}: the new w?", "lam = {lambda_}: the new w?")
    _, problems = read_lesson(write_course(tmp_path, text))
    line = text.splitlines().index('    prompt: "w = {w}, alpha = 0.1, lam = {lambda_}: the new w?"') + 1
    assert [(p.line, "template" in p.message) for p in problems] == [(line, True)]


def test_a_step_that_does_not_divide_the_range_is_an_error(tmp_path: Path) -> None:
    text = LESSON.replace("step: 0.1}", "step: 0.25}")
    _, problems = read_lesson(write_course(tmp_path, text))
    assert any("does not divide" in p.message for p in problems)


def test_a_numeric_answer_in_words_is_still_refused(tmp_path: Path) -> None:
    text = LESSON.replace('answer: "= w - 0.1*lam"', "answer: lots")
    _, problems = read_lesson(write_course(tmp_path, text))
    assert any("expected a number, found text ('lots')" in p.message for p in problems)


# --- attempts and the score policy ------------------------------------------------------------


def _wrong_and_right(course: Path, seed: int) -> tuple[str, str]:
    question = step_question(course)
    shown = resolve(question, variant_for(question, seed))
    return f"{shown.answer + 0.11:.4f}", f"{shown.answer:.6f}"


def test_a_wrong_first_attempt_can_be_retried_for_half_marks(course: Path, home: Path) -> None:
    wrong, right = _wrong_and_right(course, 5)
    output = run(course, "take", "engine", "--seed", 5, input=f"\n{wrong}\n{right}\nq\n").output
    assert "Try again: attempt 2 of 2." in output
    assert "✓ Correct (0.5/1)" in output
    assert saved(home)["items"]["step"]["score"] == 0.5


def test_the_answer_is_not_shown_while_attempts_are_left(course: Path) -> None:
    wrong, _ = _wrong_and_right(course, 5)
    output = run(course, "take", "engine", "--seed", 5, input=f"\n{wrong}\nq\n").output
    assert "Answer:" not in output


def test_the_answer_and_explanation_are_shown_when_attempts_are_used_up(course: Path) -> None:
    wrong, _ = _wrong_and_right(course, 5)
    output = run(course, "take", "engine", "--seed", 5, input=f"\n{wrong}\n{wrong}\nq\n").output
    assert "Answer:" in output
    assert " - 0.1*" in output  # the explanation, filled in


def test_attempts_resume_after_quit_and_restart(course: Path, home: Path) -> None:
    wrong, right = _wrong_and_right(course, 5)
    run(course, "take", "engine", "--seed", 5, input=f"\n{wrong}\nq\n")
    assert saved(home)["items"]["step"]["status"] == "trying"
    assert saved(home)["items"]["step"]["attempts"] == 1
    output = run(course, "take", "engine", input=f"{right}\nq\n").output
    assert "attempt 2 of 2" in output
    assert "✓ Correct (0.5/1)" in output
    assert saved(home)["items"]["step"]["score"] == 0.5


def test_a_hint_costs_its_penalty(course: Path, home: Path) -> None:
    _, right = _wrong_and_right(course, 5)
    run(course, "take", "engine", "--seed", 5, input=f"\nh\n{right}\nq\n")
    assert saved(home)["items"]["step"]["score"] == 0.75
    assert saved(home)["items"]["step"]["hints_used"] == 1


def test_a_version_1_progress_file_is_read(course: Path, home: Path) -> None:
    record = {"status": "correct", "score": 1, "max_score": 1, "answer": "b", "attempts": 1}
    document = {
        "version": 1,
        "lesson": "engine",
        "seed": 5,
        "items": {"pick": record, "intro": {**record, "status": "read"}},
    }
    (home / "progress").mkdir(parents=True)
    (home / "progress" / "engine.json").write_text(json.dumps(document), encoding="utf-8")
    output = run(course, "take", "engine", input="q\n").output
    assert "Welcome back: 1 of 2 done" in output
    assert saved(home)["version"] == 2


# --- reading items ----------------------------------------------------------------------------


def test_info_items_are_shown_in_order_and_continue_on_enter(course: Path) -> None:
    output = run(course, "take", "engine", "--seed", 5, input="\nq\n").output
    assert output.index("A worked example") < output.index("[1/2]")
    assert "One step moves a weight toward zero" in output


def test_text_typed_at_a_reading_is_not_taken_for_an_answer(course: Path) -> None:
    output = run(course, "take", "engine", "--seed", 5, input="0.25\n\nq\n").output
    assert "Nothing to answer here, this is a reading" in output
    assert output.index("Nothing to answer here") < output.index("[1/2]")  # still at the reading


def test_a_read_info_item_is_not_shown_again(course: Path) -> None:
    run(course, "take", "engine", "--seed", 5, input="\nq\n")
    output = run(course, "take", "engine", input="q\n").output
    assert "A worked example" not in output


def test_list_counts_reading_items_apart_from_questions(course: Path) -> None:
    output = run(course, "list").output
    assert "2 questions, 0 exercises, 1 reading" in output


# --- plots ------------------------------------------------------------------------------------

RUBBER_BAND = """\
id: band
type: info
title: The rubber band
text: The minimum slides to 0 and sticks there.
plot:
  title: "(w - 0.3)^2 + lam |w|"
  x: w
  range: [-0.5, 1]
  mark_minima: true
  curves:
    - formula: (w - 0.3)^2 + lam*|w|
      label: "lam = {lam}"
      each: {lam: [0, 0.3, 0.6, 1.0]}
"""
SNAPSHOTS = Path(__file__).resolve().parent / "data" / "plots"


def rubber_band_plot(tmp_path: Path):
    text = "id: plots\ntitle: Plots\nquestions:\n" + textwrap.indent(RUBBER_BAND, "    ").replace(
        "    id: band", "  - id: band", 1
    )
    lesson = load_lesson(write_course(tmp_path, text))
    plot = lesson.readings[0].plot
    assert plot is not None
    return plot


def test_a_plot_renders_to_the_snapshot_at_80_columns_without_colour(tmp_path: Path) -> None:
    from quizkit.plots import render_plot

    drawn = render_plot(rubber_band_plot(tmp_path), width=80, color=False)
    assert drawn == (SNAPSHOTS / "rubber_band_80.txt").read_text(encoding="utf-8").rstrip("\n")


def test_a_plot_without_colour_has_no_escape_codes_and_fits_its_width(tmp_path: Path) -> None:
    from quizkit.plots import render_plot

    drawn = render_plot(rubber_band_plot(tmp_path), width=80, color=False)
    assert "\x1b" not in drawn
    assert max(len(line) for line in drawn.splitlines()) <= 80


def test_the_minima_of_the_rubber_band_are_found_where_the_lesson_says(tmp_path: Path) -> None:
    from quizkit.plots import minima, plot_series

    xs, series = plot_series(rubber_band_plot(tmp_path))
    found = [minima(xs, item)[0] for item in series]  # type: ignore[index]
    # w* = S_{lam/2}(0.3): 0.3, 0.15, then 0 from lam = 0.6 on.
    assert found == pytest.approx([0.3, 0.15, 0.0, 0.0], abs=1e-9)


def test_a_plot_formula_with_an_undeclared_name_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = LESSON.replace(
        "    text: One step", "    plot: {x: w, range: [0, 1], curves: [{formula: w + mu}]}\n    text: One step"
    )
    _, problems = read_lesson(write_course(tmp_path, text))
    line = text.splitlines().index("    plot: {x: w, range: [0, 1], curves: [{formula: w + mu}]}") + 1
    assert [p.line for p in problems] == [line]
    assert "formula 'w + mu'" in problems[0].message


def test_take_draws_an_info_plot_and_no_plots_skips_it(tmp_path: Path, home: Path) -> None:
    plot = "    plot:\n" + textwrap.indent(RUBBER_BAND.split("plot:\n", 1)[1], "    ")
    text = LESSON.replace("    text: One step", plot + "    text: One step")
    write_course(tmp_path / "course", text)
    drawn = run(tmp_path / "course", "take", "engine", input="\nq\n").output
    assert "lowest points (X): lam = 0 at w = 0.3; lam = 0.3 at w = 0.15" in " ".join(drawn.split())
    skipped = run(tmp_path / "course", "take", "engine", "--restart", "--no-plots", input="\nq\n").output
    assert "lowest points" not in skipped


def test_a_sweep_draws_the_learners_function_against_the_reference() -> None:
    from quizkit.sandbox import InProcessRunner
    from quizkit.sweeps import render_sweep

    root = Path(__file__).resolve().parent.parent
    lesson = load_lesson(root / "exercises" / "lesson3" / "lesson.yaml")
    exercise = lesson.exercise("soft_threshold")
    assert exercise is not None
    learners = Path(__file__).resolve().parent / "learners" / "soft_threshold"
    wrong = render_sweep(exercise, learners / "bad_hard_threshold.py", InProcessRunner())
    assert "soft_threshold(w, threshold=0.5): yours against the reference" in wrong
    assert "differs from the reference at" in wrong
    right = render_sweep(exercise, learners / "ok_where.py", InProcessRunner())
    assert "Your curve matches the reference at every point drawn." in right


# --- typical mistakes written in YAML ---------------------------------------------------------

MISTAKE_EXERCISE = """\
id: hints
title: Hints
exercises:
  - id: sign_gradient
    title: Sign gradient
    prompt: lam * sign(w)
    parameters: [w, lam]
    mistakes:
      - formula: 2*lam*w
        message: "proportional to w: that is the L2 gradient"
    cases:
      - name: mixed
        args: {w: [1.5, -0.25, 0.0], lam: 0.1}
      - name: scalar
        args: {w: 2.0, lam: 0.3}
"""
REFERENCE = "import numpy as np\\n\\ndef sign_gradient(w, lam):\\n    return lam * np.sign(w)\\n"


def grade_source(tmp_path: Path, body: str) -> tuple[str, ...]:
    from quizkit.grading import grade_file
    from quizkit.sandbox import InProcessRunner

    course = tmp_path / "course"
    (course / "exercises" / "hints").mkdir(parents=True)
    (course / "exercises" / "hints" / "lesson.yaml").write_text(MISTAKE_EXERCISE, encoding="utf-8")
    (course / "exercises" / "hints" / "sign_gradient.py").write_text("def sign_gradient(w, lam):\n    pass\n")
    (course / "solutions" / "hints").mkdir(parents=True)
    (course / "solutions" / "hints" / "sign_gradient.py").write_text(REFERENCE.replace("\\n", "\n"))
    lesson = load_lesson(course / "exercises" / "hints" / "lesson.yaml")
    learner = tmp_path / "sign_gradient.py"
    learner.write_text("import numpy as np\n\ndef sign_gradient(w, lam):\n    return " + body + "\n")
    exercise = lesson.exercise("sign_gradient")
    assert exercise is not None
    return grade_file(lesson, exercise, learner, InProcessRunner()).hints


def test_a_yaml_mistake_fires_when_the_output_matches_its_formula(tmp_path: Path) -> None:
    assert "proportional to w: that is the L2 gradient" in grade_source(
        tmp_path, "2 * lam * np.asarray(w, dtype=float)"
    )


def test_a_yaml_mistake_is_silent_on_a_correct_submission(tmp_path: Path) -> None:
    assert grade_source(tmp_path, "lam * np.sign(w)") == ()


def test_a_yaml_mistake_is_silent_on_an_unrelated_wrong_submission(tmp_path: Path) -> None:
    hints = grade_source(tmp_path, "lam * np.sign(w) + 1.0")
    assert "proportional to w: that is the L2 gradient" not in hints


def test_a_mistake_formula_with_an_unknown_name_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = MISTAKE_EXERCISE.replace("formula: 2*lam*w", "formula: 2*mu*w")
    lesson = tmp_path / "exercises" / "hints" / "lesson.yaml"
    lesson.parent.mkdir(parents=True)
    lesson.write_text(text, encoding="utf-8")
    (lesson.parent / "sign_gradient.py").write_text("")
    _, problems = read_lesson(lesson)
    line = text.splitlines().index("      - formula: 2*mu*w") + 1
    assert [(p.line, p.column) for p in problems] == [(line, 18)]


def test_a_sweep_naming_an_unknown_parameter_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = MISTAKE_EXERCISE.replace(
        "    mistakes:\n", "    sweep: {vary: x, range: [-1, 1], args: {lam: 0.5}}\n    mistakes:\n"
    )
    lesson = tmp_path / "exercises" / "hints" / "lesson.yaml"
    lesson.parent.mkdir(parents=True)
    lesson.write_text(text, encoding="utf-8")
    (lesson.parent / "sign_gradient.py").write_text("")
    _, problems = read_lesson(lesson)
    line = text.splitlines().index("    sweep: {vary: x, range: [-1, 1], args: {lam: 0.5}}") + 1
    assert any(p.line == line and "'x' is not a parameter" in p.message for p in problems)
    assert any(p.line == line and "needs a value for w" in p.message for p in problems)


def test_a_symbolic_key_gets_the_variants_numbers(tmp_path: Path) -> None:
    text = """\
id: sym
title: Sym
questions:
  - id: band
    type: symbolic
    parameters: {c: [0.3, 0.4]}
    prompt: "d/dw of (w − {c})² + λ|w| for w > 0"
    variables: {w: positive, lam: positive}
    answer: 2*(w - c) + lam
    wrong_answers:
      - answer: (w - c) + lam
        feedback: "The factor 2 of (w − {c})² is missing."
"""
    question = load_lesson(write_course(tmp_path, text)).question("band")
    assert question is not None
    shown = resolve(question, 1)
    assert (shown.prompt, shown.answer) == ("d/dw of (w − 0.4)² + λ|w| for w > 0", "2*(w - (2/5)) + lam")
    assert shown.wrong_answers[0].answer == "(w - (2/5)) + lam"
    assert shown.wrong_answers[0].feedback == "The factor 2 of (w − 0.4)² is missing."


def test_the_variant_a_learner_is_on_is_saved_in_progress(course: Path, home: Path) -> None:
    wrong, _ = _wrong_and_right(course, 5)
    run(course, "take", "engine", "--seed", 5, input=f"\n{wrong}\nq\n")
    assert saved(home)["items"]["step"]["variant"] == variant_for(step_question(course), 5)


def test_an_explanation_plot_uses_the_variants_parameters(tmp_path: Path) -> None:
    from quizkit.plots import plot_series

    text = LESSON.replace(
        '    explanation: "{w}',
        '    plot: {x: v, range: [0, 1], points: 5, curves: [{formula: v - w}]}\n    explanation: "{w}',
    )
    question = load_lesson(write_course(tmp_path, text)).question("step")
    assert question is not None and question.plot is not None
    shown = resolve(question, 0)  # w = 0.3
    _, series = plot_series(shown.plot, dict(shown.values))
    assert series[0].ys == pytest.approx((-0.3, -0.05, 0.2, 0.45, 0.7))


@pytest.mark.slow
@pytest.mark.parametrize(("learner", "drawn"), [("bad_hard_threshold.py", True), ("ok_where.py", False)])
def test_submit_draws_the_sweep_only_for_a_file_without_full_marks(
    tmp_path: Path, home: Path, learner: str, drawn: bool
) -> None:
    root = Path(__file__).resolve().parent.parent
    submitted = tmp_path / "soft_threshold.py"
    submitted.write_text((root / "tests" / "learners" / "soft_threshold" / learner).read_text(encoding="utf-8"))
    result = invoke(["--course", root, "submit", "lesson3", submitted], None)
    assert ("yours against the reference" in result.output) is drawn
    no_plots = invoke(["--course", root, "submit", "lesson3", submitted, "--no-plots"], None)
    assert "yours against the reference" not in no_plots.output
