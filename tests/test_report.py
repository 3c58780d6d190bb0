"""Specification of the renderers of exercise results: text, json, gradescope and junit.

Results are built by hand here, so these tests say what each format shows for a given result and
nothing about how results are judged (that is tests/test_exercises.py).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from quizkit.report import FORMATS, format_value, render, render_gradescope, render_json, render_junit, render_text
from quizkit.results import CaseResult, CaseStatus, Difference, ExerciseResult, GroupResult
from quizkit.sandbox import RunStatus
from quizkit.verdict import Status


def passing_case(name: str = "basic") -> CaseResult:
    w = np.array([2.0, -0.5])
    return CaseResult(
        name,
        name,
        CaseStatus.PASSED,
        (),
        (("w", w), ("threshold", 0.5)),
        np.array([1.5, -0.0]),
        np.array([1.5, 0.0]),
        "ndarray",
        None,
        (False, False),
    )


def failing_case(name: str = "on the threshold", got: np.ndarray | None = None, group: str | None = None) -> CaseResult:
    got = np.array([1e-12, 1.5]) if got is None else got
    return CaseResult(
        name,
        group or name,
        CaseStatus.FAILED,
        ("1 entry should be exactly 0.0 but is tiny and non-zero (e.g. 1e-12 at [0])",),
        (("w", np.array([0.5, 2.0])), ("threshold", 0.5)),
        np.array([0.0, 1.5]),
        got,
        "ndarray",
        None,
        (False, False),
        (Difference((0,), 0.0, 1e-12),),
        1,
    )


def not_run_case(name: str, reason: str = "not run: syntax error on line 3") -> CaseResult:
    return CaseResult(
        name, name, CaseStatus.NOT_RUN, (reason,), (("w", 1.0), ("threshold", 0.5)), np.array(0.5), None, "", None, ()
    )


def group(*cases: CaseResult, name: str | None = None, is_random: bool = False, max_score: float = 1.0) -> GroupResult:
    return GroupResult(name or cases[0].group, is_random, 1, max_score, cases)


def result(
    *groups: GroupResult,
    hints: tuple[str, ...] = (),
    output: str = "",
    run_status: RunStatus = RunStatus.OK,
    run_message: str = "",
    exercise: str = "soft_threshold",
) -> ExerciseResult:
    score = sum(g.score for g in groups)
    total = sum(g.max_score for g in groups)
    status = Status.CORRECT if score == total else Status.PARTIAL if score else Status.INCORRECT
    return ExerciseResult(
        lesson_id="lesson3",
        exercise_id=exercise,
        title="Soft thresholding",
        source=Path(f"work/{exercise}.py"),
        status=status,
        score=score,
        max_score=total,
        groups=groups,
        run_status=run_status,
        run_message=run_message,
        run_detail="",
        hints=hints,
        output=output,
        output_truncated=False,
        seconds=0.25,
    )


def mixed() -> ExerciseResult:
    return result(
        group(passing_case()), group(failing_case()), hints=("set them to 0.0 exactly",), output="debug line\n"
    )


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


def test_a_0d_float_is_shown_as_a_plain_number() -> None:
    assert format_value(np.array(0.3)) == "0.3"


def test_a_2d_array_is_shown_on_one_line() -> None:
    assert "\n" not in format_value(np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_a_large_array_is_summarised_not_dumped() -> None:
    text = format_value(np.arange(10_000, dtype=float))
    assert "..." in text and len(text) < 200


def test_empty_arrays_show_their_shape() -> None:
    assert "shape=(0, 3)" in format_value(np.zeros((0, 3)))


def test_a_non_default_dtype_is_shown() -> None:
    assert "float32" in format_value(np.array([1.5], dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------------------------


def test_text_has_one_line_per_passing_group() -> None:
    text = render_text([result(group(passing_case("a")), group(passing_case("b")))])
    assert "✓ a" in text and "✓ b" in text
    assert "call:" not in text and "expected:" not in text


def test_text_headline_gives_checks_passed_and_score() -> None:
    assert "1/2 checks passed, score 1/2" in render_text([mixed()])


def test_text_details_a_failing_group() -> None:
    text = render_text([mixed()])
    assert "✗ on the threshold" in text
    assert "call:      soft_threshold(w=array([0.5, 2. ]), threshold=0.5)" in text
    assert "expected:  array([0. , 1.5])" in text
    assert "got:       array([1.0e-12, 1.5e+00])" in text
    assert "exactly 0.0 but is tiny" in text
    assert "differing: [0] expected 0.0, got 1e-12" in text


def test_text_shows_the_learner_traceback_of_an_exception() -> None:
    raised = replace(
        failing_case(),
        got=None,
        return_type="",
        error='ValueError: bad\n  File "soft_threshold.py", line 4, in soft_threshold',
        problems=("raised ValueError: bad",),
    )
    text = render_text([result(group(raised))])
    assert "got:       raised ValueError: bad" in text and 'File "soft_threshold.py", line 4' in text


def test_text_summarises_a_failing_random_block_by_its_draws() -> None:
    draws = group(passing_case("random #1"), failing_case("random #2", group="random"), name="random", is_random=True)
    text = render_text([result(draws)])
    assert "1 of 2 draws failed; the first is random #2:" in text


def test_text_lists_the_likely_mistakes() -> None:
    assert "Likely mistakes:\n    • set them to 0.0 exactly" in render_text([mixed()])


def test_text_shows_short_output_when_something_failed() -> None:
    assert "Your code printed:\n    debug line" in render_text([mixed()])


def test_text_hides_output_when_everything_passed() -> None:
    assert "debug line" not in render_text([result(group(passing_case()), output="debug line\n")])


def test_text_does_not_dump_long_output() -> None:
    text = render_text([result(group(failing_case()), output="x\n" * 500)])
    assert "too long to show" in text and text.count("\n    x") == 0


def test_text_for_a_file_that_did_not_load_gives_the_reason_once() -> None:
    groups = [group(not_run_case(f"case {i}")) for i in range(5)]
    text = render_text([result(*groups, run_status=RunStatus.SYNTAX_ERROR, run_message="syntax error on line 3")])
    assert text.count("syntax error on line 3") == 1 and "5 checks not run" in text


def test_text_does_not_repeat_the_same_reason_line_after_line() -> None:
    failing = [group(failing_case(f"case {i}")) for i in range(6)]
    text = render_text([result(*failing)])
    assert text.count("same problem") == 2  # three groups in full, then one reason and two repeats


def test_text_without_color_has_no_escape_codes() -> None:
    assert "\x1b[" not in render_text([mixed()], color=False)


def test_text_with_color_uses_ansi_styles() -> None:
    assert "\x1b[" in render_text([mixed()], color=True)


def test_text_for_several_files_ends_with_the_total() -> None:
    text = render_text([mixed(), result(group(passing_case()))])
    assert text.rstrip().endswith("Total: 2/3")


# ---------------------------------------------------------------------------------------------
# json
# ---------------------------------------------------------------------------------------------


def test_json_has_the_same_shape_for_one_file_or_many() -> None:
    one = json.loads(render_json([mixed()]))
    two = json.loads(render_json([mixed(), mixed()]))
    assert one.keys() == two.keys() == {"format", "score", "max_score", "results"}
    assert (len(one["results"]), len(two["results"])) == (1, 2)


def test_json_result_names_exercise_score_status_and_tests() -> None:
    data = json.loads(render_json([mixed()]))["results"][0]
    assert (data["exercise"], data["score"], data["max_score"], data["status"]) == (
        "soft_threshold",
        1.0,
        2.0,
        "partial",
    )
    assert [(t["name"], t["status"]) for t in data["tests"]] == [("basic", "passed"), ("on the threshold", "failed")]
    assert "exactly 0.0" in data["tests"][1]["message"]
    assert data["output"] == "debug line\n"


def test_json_failures_carry_inputs_expected_got_and_differences() -> None:
    failure = json.loads(render_json([mixed()]))["results"][0]["tests"][1]["failures"][0]
    assert failure["inputs"] == {"w": [0.5, 2.0], "threshold": 0.5}
    assert (failure["expected"], failure["got"]) == ([0.0, 1.5], [1e-12, 1.5])
    assert failure["differences"] == [{"index": [0], "expected": 0.0, "got": 1e-12}]


def test_json_writes_nan_and_infinity_as_strings() -> None:
    bad = failing_case(got=np.array([np.nan, np.inf]))
    text = render_json([result(group(bad))])
    assert json.loads(text)["results"][0]["tests"][0]["failures"][0]["got"] == ["nan", "inf"]


# ---------------------------------------------------------------------------------------------
# gradescope
# ---------------------------------------------------------------------------------------------


def test_gradescope_has_the_autograder_keys() -> None:
    data = json.loads(render_gradescope([mixed()]))
    assert {"score", "tests", "output", "visibility", "stdout_visibility"} <= data.keys()
    assert data["score"] == 1.0


def test_gradescope_tests_have_name_score_max_score_status_output() -> None:
    tests = json.loads(render_gradescope([mixed()]))["tests"]
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in tests] == [
        ("soft_threshold: basic", 1.0, 1.0, "passed"),
        ("soft_threshold: on the threshold", 0.0, 1.0, "failed"),
    ]
    assert "exactly 0.0" in tests[1]["output"]


def test_gradescope_reports_groups_that_never_ran_as_failed() -> None:
    data = json.loads(
        render_gradescope([result(group(not_run_case("a")), run_status=RunStatus.SYNTAX_ERROR, run_message="bad")])
    )
    assert data["tests"][0]["status"] == "failed" and "bad" in data["output"]


def test_gradescope_merges_several_files() -> None:
    data = json.loads(render_gradescope([mixed(), result(group(passing_case()), exercise="clamp_to_zero")]))
    assert data["score"] == 2.0 and len(data["tests"]) == 3


# ---------------------------------------------------------------------------------------------
# junit
# ---------------------------------------------------------------------------------------------


def test_junit_counts_tests_and_failures() -> None:
    root = ET.fromstring(render_junit([mixed()]))
    suite = root.find("testsuite")
    assert root.tag == "testsuites" and suite is not None
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        "lesson3.soft_threshold",
        "2",
        "1",
        "0",
    )


def test_junit_failure_carries_message_and_details() -> None:
    root = ET.fromstring(render_junit([mixed()]))
    failure = root.find(".//testcase[@name='on the threshold']/failure")
    assert failure is not None and "exactly 0.0" in (failure.get("message") or "")
    assert "differing: [0]" in (failure.text or "")


def test_junit_reports_groups_that_never_ran_as_errors() -> None:
    root = ET.fromstring(
        render_junit([result(group(not_run_case("a")), run_status=RunStatus.SYNTAX_ERROR, run_message="bad")])
    )
    assert root.find(".//testcase/error") is not None and root.get("errors") == "1"


def test_junit_escapes_markup_and_drops_nothing() -> None:
    tricky = failing_case('w < 0 & w > -1 "quoted"')
    root = ET.fromstring(render_junit([result(group(tricky), output="<tag> & \x1b[31mred\x00")]))
    assert root.find(".//testcase").get("name") == 'w < 0 & w > -1 "quoted"'  # type: ignore[union-attr]
    out = root.find(".//system-out")
    assert out is not None and "<tag> & \\x1b[31mred\\x00" in (out.text or "")


# ---------------------------------------------------------------------------------------------
# dispatch
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_results(fmt: str) -> None:
    assert render([mixed()], fmt)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render([mixed()], "yaml")


# ---------------------------------------------------------------------------------------------
# hidden cases: named with passed/failed, nothing more, in every format
# ---------------------------------------------------------------------------------------------

# Values that appear only in the hidden case below, so that any leak is visible as text.
SECRET_INPUT = 4711.25
SECRET_EXPECTED = 9876.5
SECRET_GOT = 1234.75
SECRET_ERROR = "ValueError: w was 4711.25"


def hidden_failing_case(name: str = "the secret case", *, error: str | None = None) -> CaseResult:
    return replace(
        failing_case(name, got=np.array([SECRET_GOT, 0.0])),
        inputs=(("w", np.array([SECRET_INPUT, 0.0])), ("threshold", 0.5)),
        expected=np.array([SECRET_EXPECTED, 0.0]),
        differences=(Difference((0,), SECRET_EXPECTED, SECRET_GOT),),
        problems=("1 of 2 entries differ from the expected values", f"raised {error}")
        if error
        else ("1 of 2 entries differ",),
        error=error,
        hidden=True,
    )


def with_hidden() -> ExerciseResult:
    secret = hidden_failing_case(error=SECRET_ERROR)
    hidden_pass = replace(passing_case("hidden pass"), hidden=True)
    return result(
        group(passing_case()),
        group(failing_case()),
        replace(group(secret), hidden=True),
        replace(group(hidden_pass), hidden=True),
    )


def leaked(text: str) -> list[str]:
    needles = ("4711", "9876", "1234.75", "w was")
    return [needle for needle in needles if needle in text]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_hidden_case_shows_no_inputs_expected_or_got_in_any_format(fmt: str) -> None:
    text = render([with_hidden()], fmt)
    assert leaked(text) == []
    assert "the secret case" in text and "hidden pass" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_visible_failing_case_keeps_its_details_beside_hidden_ones(fmt: str) -> None:
    assert "exactly 0.0" in render([with_hidden()], fmt)


def test_text_marks_hidden_cases_passed_or_failed() -> None:
    text = render_text([with_hidden()])
    assert "✗ the secret case: failed (a hidden case" in text
    assert "✓ hidden pass (hidden case)" in text


def test_json_hidden_test_has_status_and_no_failures() -> None:
    tests = json.loads(render_json([with_hidden()]))["results"][0]["tests"]
    secret = next(t for t in tests if t["name"] == "the secret case")
    assert (secret["hidden"], secret["status"], secret["failures"]) == (True, "failed", [])


def test_gradescope_hidden_test_is_failed_without_details() -> None:
    tests = json.loads(render_gradescope([with_hidden()]))["tests"]
    secret = next(t for t in tests if t["name"].endswith("the secret case"))
    assert secret["status"] == "failed" and "hidden case" in secret["output"]


def test_junit_hidden_failure_has_only_the_hidden_note() -> None:
    root = ET.fromstring(render_junit([with_hidden()]))
    failure = root.find(".//testcase[@name='the secret case']/failure")
    assert failure is not None and "hidden case" in (failure.get("message") or "")


def test_withheld_output_is_not_shown_and_says_why() -> None:
    withheld = replace(with_hidden(), output="", output_withheld=True)
    assert "not shown: your code ran hidden cases" in render_text([withheld])
    assert json.loads(render_json([withheld]))["results"][0]["output_withheld"] is True
