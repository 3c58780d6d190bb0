"""Renderers of exercise results (text for people; json, gradescope and junit for machines) and of
``quizkit validate``'s lesson checks (text and json). Question verdicts are rendered by ``render.py``.

Every renderer takes a sequence of :class:`~quizkit.exercises.ExerciseResult` (one per graded file)
and returns a string; none of them judges anything. The unit of a "test" in every format is a case
group (one explicit case, or one block of random cases), which is also the unit of scoring.

Formats:

- ``text``: a headline per file, one ✓/✗ line per group, details (call, expected, got, problems,
  first differing entries) only for failing groups, likely mistakes, and the learner's printed
  output when something failed and it is short.
Hidden cases (``hidden: true`` in the lesson) are named with their status in every format and
nothing more: no inputs, expected value, result, problem or traceback. Mistake hints never come from
them, and when the code ran them what it printed is withheld (see :func:`quizkit.exercises.judge`).

- ``json``: quizkit's own schema, always the same shape however many files were graded::

      {"format": "quizkit-results/1", "score": 3.5, "max_score": 6, "results": [
          {"lesson", "exercise", "title", "file", "status", "score", "max_score", "run_status",
           "run_message", "run_detail", "hints", "output", "output_truncated", "output_withheld", "seconds",
           "tests": [{"name", "hidden", "status", "score", "max_score", "message", "cases", "failed",
                      "failures": [{"name", "message", "inputs", "expected", "got", "returned",
                                    "differences": [{"index", "expected", "got"}], "differing"}]}]}]}

  ``status`` of a result is correct/partial/incorrect, of a test passed/failed/not_run. Numbers
  that JSON cannot hold (nan, inf) are written as the strings "nan", "inf", "-inf"; arrays of
  more than ``MAX_JSON_ENTRIES`` entries as null (their shape is in the message).
- ``gradescope``: the results.json of a Gradescope autograder (top-level ``score``, ``tests`` with
  ``name``, ``score``, ``max_score``, ``status``, ``output``; ``visibility``,
  ``stdout_visibility``, ``output_format``), several files merged into one.
- ``junit``: JUnit XML, one ``<testsuite>`` per file and one ``<testcase>`` per group; a failing
  group is a ``<failure>``, a group that never ran (the file did not load, the run was stopped) an
  ``<error>``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from quizkit.results import CaseResult, CaseStatus, ExerciseResult, GroupResult, encode_number
from quizkit.rules import REAL_DTYPE_KINDS
from quizkit.text import STATUS_COLOURS, plural

if TYPE_CHECKING:
    from quizkit.validate import LessonReport

FORMATS = ("text", "json", "gradescope", "junit")
# Text output shows full details for this many failing groups per file; the rest get one line.
MAX_DETAILED_GROUPS = 3
# The learner's output is shown when it has at most this many lines / characters.
MAX_OUTPUT_LINES = 20
MAX_OUTPUT_CHARS = 2000
MAX_JSON_ENTRIES = 1000
MAX_FAILURES_PER_TEST = 3


def render(results: Sequence[ExerciseResult], fmt: str, color: bool = False) -> str:
    """Render ``results`` in format ``fmt`` (one of :data:`FORMATS`); ``color`` only affects text."""
    if fmt == "text":
        return render_text(results, color=color)
    renderers: dict[str, Callable[[Sequence[ExerciseResult]], str]] = {
        "json": render_json,
        "gradescope": render_gradescope,
        "junit": render_junit,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    return renderers[fmt](results)


# ---------------------------------------------------------------------------------------------
# Describing values and failures (shared by every format)
# ---------------------------------------------------------------------------------------------


def format_value(value: object) -> str:
    """A compact one-line rendering: ``0.3``, ``array([ 0.1, -0.1,  0. ])``, summarised when large."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0 and value.dtype.kind == "f":
            return repr(float(value))
        if value.dtype.kind not in "biufc" or value.size > MAX_JSON_ENTRIES:
            return _array_text(value)
        # Batch grading shows the same inputs and expected values (and often the same wrong results)
        # in file after file; numpy's printing costs far more than keying the text by the array's content.
        return _array_text_of(value.dtype.str, value.shape, value.tobytes())
    return repr(value)


def _array_text(value: np.ndarray) -> str:
    with np.printoptions(threshold=24, edgeitems=4, precision=8, floatmode="maxprec"):
        text = np.array_repr(value, max_line_width=10_000)
    return re.sub(r"\s*\n\s*", " ", text)  # 2-d arrays on one line


@functools.lru_cache(maxsize=4096)
def _array_text_of(dtype: str, shape: tuple[int, ...], data: bytes) -> str:
    return _array_text(np.frombuffer(data, dtype=dtype).reshape(shape))


def format_call(function: str, case: CaseResult) -> str:
    """``soft_threshold(w=array([0.3, -0.3]), threshold=0.3)``"""
    arguments = ", ".join(f"{name}={format_value(value)}" for name, value in case.inputs)
    return f"{function}({arguments})"


def format_got(case: CaseResult) -> str:
    """What the learner's function gave: a value, the exception it raised, or the type it returned."""
    if case.error is not None:
        return f"raised {case.error.splitlines()[0]}"
    if case.got is None:
        return "None" if case.return_type == "NoneType" else f"a {case.return_type}" if case.return_type else "nothing"
    return format_value(case.got)


def failure_details(function: str, case: CaseResult) -> list[str]:
    """The lines explaining one failing case: call, expected, got, problems, differing entries."""
    # A case that never ran, or that the run was stopped in, has no result to compare.
    if case.status is CaseStatus.NOT_RUN or (case.got is None and case.error is None and not case.return_type):
        return [f"call:      {format_call(function, case)}", *(f"problem:   {p}" for p in case.problems)]
    lines = [
        f"call:      {format_call(function, case)}",
        f"expected:  {format_value(case.expected)}",
        f"got:       {format_got(case)}",
    ]
    if case.error is not None:
        lines += [f"           {line}" for line in case.error.splitlines()[1:]]  # learner traceback
    lines += [f"problem:   {problem}" for problem in case.problems if not problem.startswith("raised ")]
    if case.differences and case.got is not None and case.got.ndim > 0:
        shown = "; ".join(f"{d.where} expected {d.expected!r}, got {d.got!r}" for d in case.differences)
        more = case.differing_count - len(case.differences)
        lines.append(f"differing: {shown}" + (f" (and {more} more)" if more > 0 else ""))
    return lines


HIDDEN_NOTE = "a hidden case: its inputs and results are not shown"


def group_summary(group: GroupResult) -> str:
    """One line: why a group failed ("passed" if it did not)."""
    if group.passed:
        return "passed"
    if group.hidden:
        return f"{'not run' if group.status is CaseStatus.NOT_RUN else 'failed'} ({HIDDEN_NOTE})"
    first = group.failures[0]
    if group.is_random and group.status is CaseStatus.FAILED:
        draw = first.name.removeprefix(group.name).strip() or first.name
        return f"{_draws_failed(group)}; first {draw}: {_first_problem(first)}"
    return _first_problem(first)


def _first_problem(case: CaseResult) -> str:
    return case.problems[0] if case.problems else "failed"


def _draws_failed(group: GroupResult) -> str:
    failed = sum(case.status is CaseStatus.FAILED for case in group.cases)
    return f"{failed} of {len(group.cases)} draws failed"


def group_details(function: str, group: GroupResult) -> list[str]:
    """The details of the first failing case of a failing group ([] for a passing group)."""
    if group.passed:
        return []
    if group.hidden:
        return [group_summary(group)]
    first = group.failures[0]
    lines = [f"{_draws_failed(group)}; the first is {first.name}:"] if group.is_random else []
    return lines + failure_details(function, first)


def _clip(text: str, width: int) -> str:
    width = max(width, 60)
    return text if len(text) <= width else text[: width - 1] + "…"


def _headline(result: ExerciseResult) -> str:
    groups = len(result.groups)
    return (
        f"{result.source.name} — {result.exercise_id} ({result.title}): "
        f"{result.passed_groups}/{groups} checks passed, score {_number(result.score)}/{_number(result.max_score)}"
    )


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _short_output(result: ExerciseResult) -> str | None:
    """The learner's output if it is worth showing: something failed and it is short."""
    if result.output_withheld:
        return None if result.is_correct else "(not shown: your code ran hidden cases, whose inputs it could print)"
    text = result.output.strip()
    if result.is_correct or not text:
        return None
    if len(text) > MAX_OUTPUT_CHARS or text.count("\n") >= MAX_OUTPUT_LINES or result.output_truncated:
        lines = result.output.count("\n") + 1
        return f"(your code printed {lines} lines, {len(result.output)} characters: too long to show here)"
    return text


# ---------------------------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------------------------


def render_text(results: Sequence[ExerciseResult], color: bool = False) -> str:
    """The human report (see the module docstring); ANSI colours only when ``color`` is true."""

    def style(text: str, **styles: object) -> str:
        return click.style(text, **styles) if color else text  # type: ignore[arg-type]

    blocks = [_text_block(result, style) for result in results]
    if len(results) > 1:
        score = sum(r.score for r in results)
        total = sum(r.max_score for r in results)
        blocks.append(style(f"Total: {_number(score)}/{_number(total)}", bold=True))
    return "\n\n".join(blocks)


def _text_block(result: ExerciseResult, style: Callable[..., str]) -> str:
    colour = STATUS_COLOURS[result.status]
    lines = [style(_headline(result), fg=colour, bold=True)]
    if result.run_message:
        lines.append(style(f"  ✗ {result.run_message}", fg="red"))
        lines += [f"    {line}" for line in result.run_detail.splitlines()]
    # Groups after the run stopped are summed up in one line instead of one line each.
    shown = len(result.groups)
    while shown and result.groups[shown - 1].status is CaseStatus.NOT_RUN:
        shown -= 1
    detailed = 0
    previous = ""  # a one-line reason equal to the line above is not repeated
    for group in result.groups[:shown]:
        if group.passed:
            lines.append(f"  {style('✓', fg='green')} {group.name}" + (" (hidden case)" if group.hidden else ""))
        elif group.hidden:
            mark = style("–", fg="yellow") if group.status is CaseStatus.NOT_RUN else style("✗", fg="red")
            lines.append(f"  {mark} {group.name}: {group_summary(group)}")
        elif group.status is CaseStatus.NOT_RUN:
            lines.append(f"  {style('–', fg='yellow')} {group.name}: {group_summary(group)}")
        elif detailed < MAX_DETAILED_GROUPS:
            detailed += 1
            lines.append(f"  {style('✗', fg='red')} {group.name}")
            lines += [f"      {line}" for line in group_details(result.exercise_id, group)]
        else:
            reason = _first_problem(group.failures[0])
            summary = "same problem" if reason == previous else _clip(group_summary(group), 120 - len(group.name))
            previous = reason
            lines.append(f"  {style('✗', fg='red')} {group.name}: {summary}")
    not_run = len(result.groups) - shown
    if not_run:
        more = " more" if shown else ""
        lines.append(f"  {style('–', fg='yellow')} {not_run}{more} check{'s' if not_run != 1 else ''} not run")
    if result.hints:
        lines.append(style("  Likely mistakes:", bold=True))
        lines += [f"    • {hint}" for hint in result.hints]
    output = _short_output(result)
    if output is not None:
        lines.append(style("  Your code printed:", bold=True))
        lines += [f"    {line}" for line in output.splitlines()]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# json
# ---------------------------------------------------------------------------------------------


def render_json(results: Sequence[ExerciseResult]) -> str:
    """quizkit's JSON schema (see the module docstring)."""
    return json.dumps(json_document(results), indent=2, ensure_ascii=False, allow_nan=False)


def json_document(results: Sequence[ExerciseResult]) -> dict[str, object]:
    """The document :func:`render_json` prints, as plain data (``grade`` embeds it in feedback files)."""
    return {
        "format": "quizkit-results/1",
        "score": sum(r.score for r in results),
        "max_score": sum(r.max_score for r in results),
        "results": [_json_result(result) for result in results],
    }


def _json_result(result: ExerciseResult) -> dict[str, object]:
    return {
        "lesson": result.lesson_id,
        "exercise": result.exercise_id,
        "title": result.title,
        "file": str(result.source),
        "status": result.status.value,
        "score": result.score,
        "max_score": result.max_score,
        "run_status": result.run_status.value,
        "run_message": result.run_message,
        "run_detail": result.run_detail,
        "tests": [_json_test(result.exercise_id, group) for group in result.groups],
        "hints": list(result.hints),
        "output": result.output,
        "output_truncated": result.output_truncated,
        "output_withheld": result.output_withheld,
        "seconds": result.seconds,
    }


def _json_test(function: str, group: GroupResult) -> dict[str, object]:
    failures = () if group.hidden else group.failures
    return {
        "name": group.name,
        "hidden": group.hidden,
        "status": group.status.value,
        "score": group.score,
        "max_score": group.max_score,
        "message": "\n".join(group_details(function, group)),
        "cases": len(group.cases),
        "failed": sum(case.status is CaseStatus.FAILED for case in group.cases),
        "failures": [_json_case(case) for case in failures[:MAX_FAILURES_PER_TEST]],
    }


def _json_case(case: CaseResult) -> dict[str, object]:
    return {
        "name": case.name,
        "status": case.status.value,
        "message": case.message,
        "inputs": {name: _json_value(value) for name, value in case.inputs},
        "expected": _json_value(case.expected),
        "got": _json_value(case.got),
        "returned": case.return_type,
        "error": case.error,
        "differences": [difference.to_dict() for difference in case.differences],
        "differing": case.differing_count,
    }


def _json_value(value: object) -> object:
    if value is None:
        return None
    array = np.asarray(value)
    if array.size > MAX_JSON_ENTRIES or array.dtype.kind not in REAL_DTYPE_KINDS:
        return None
    floats = array.astype(np.float64)
    if np.isfinite(floats).all():
        return floats.tolist()  # nothing for encode_number to change: skip the walk over every entry
    return _json_nested(floats.tolist())


def _json_nested(value: object) -> object:
    if isinstance(value, list):
        return [_json_nested(item) for item in value]
    return encode_number(value)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# gradescope
# ---------------------------------------------------------------------------------------------


def render_gradescope(results: Sequence[ExerciseResult]) -> str:
    """A Gradescope autograder results.json for all ``results`` together."""
    tests = []
    for result in results:
        for group in result.groups:
            details = "\n".join(group_details(result.exercise_id, group))
            tests.append(
                {
                    "name": f"{result.exercise_id}: {group.name}",
                    "score": group.score,
                    "max_score": group.max_score,
                    # Gradescope knows passed and failed only: a group not run has failed.
                    "status": (CaseStatus.PASSED if group.passed else CaseStatus.FAILED).value,
                    "output": details,
                    "visibility": "visible",
                }
            )
    summary = []
    for result in results:
        summary.append(_headline(result))
        if result.run_message:
            summary.append(f"  {result.run_message}")
            summary += [f"    {line}" for line in result.run_detail.splitlines()]
        summary += [f"  Likely mistake: {hint}" for hint in result.hints]
        output = _short_output(result)
        if output is not None:
            summary.append("  Your code printed:")
            summary += [f"    {line}" for line in output.splitlines()]
    document = {
        "score": sum(r.score for r in results),
        "output": "\n".join(summary),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# junit
# ---------------------------------------------------------------------------------------------


# Characters XML 1.0 cannot contain at all, even escaped (learner output may hold them).
@functools.cache
def _xml_illegal() -> re.Pattern[str]:
    # Compiled on first use: a character class this wide takes milliseconds to compile, which every
    # `submit` would pay for a format it rarely prints.
    return re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _xml_illegal().sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def render_junit(results: Sequence[ExerciseResult]) -> str:
    """JUnit XML: one testsuite per graded file, one testcase per case group."""
    import xml.etree.ElementTree as ET  # only this format needs it

    root = ET.Element("testsuites", name="quizkit")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    seconds = 0.0
    for result in results:
        suite_name = f"{result.lesson_id}.{result.exercise_id}" if result.lesson_id else result.exercise_id
        failures = sum(group.status is CaseStatus.FAILED for group in result.groups)
        errors = sum(group.status is CaseStatus.NOT_RUN for group in result.groups)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=suite_name,
            tests=str(len(result.groups)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
            time=f"{result.seconds:.3f}",
            file=_xml_text(str(result.source)),
        )
        for group in result.groups:
            case = ET.SubElement(
                suite, "testcase", classname=suite_name, name=_xml_text(group.name), time=f"{group.seconds:.3f}"
            )
            if group.passed:
                continue
            tag = "error" if group.status is CaseStatus.NOT_RUN else "failure"
            kind = result.run_status.value if tag == "error" else "wrong_result"
            element = ET.SubElement(case, tag, message=_xml_text(group_summary(group)), type=kind)
            element.text = _xml_text("\n".join(group_details(result.exercise_id, group)))
        extra = [text for text in (result.run_message, result.run_detail) if text]
        extra += [f"Likely mistake: {hint}" for hint in result.hints]
        if extra:
            ET.SubElement(suite, "system-err").text = _xml_text("\n".join(extra))
        if result.output:
            ET.SubElement(suite, "system-out").text = _xml_text(result.output)
        totals["tests"] += len(result.groups)
        totals["failures"] += failures
        totals["errors"] += errors
        seconds += result.seconds
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


# ---------------------------------------------------------------------------------------------
# quizkit validate: the lesson checks
# ---------------------------------------------------------------------------------------------


def render_validate_text(reports: Sequence[LessonReport]) -> str:
    """The human report: a ✓/✗ line per lesson and per check, problems as ``file:line:col: message``."""
    lines: list[str] = []
    for report in reports:
        title = f"{report.path}" + (f" ({report.lesson_id})" if report.lesson_id else "")
        lines.append(f"{_validate_mark(report.ok)} {click.style(title, bold=True)}")
        for check in report.checks:
            mark = _validate_mark(check.ok) if check.ran else click.style("–", fg="yellow")
            lines.append(f"  {mark} {check.name}: {check.summary}")
            lines += [f"      {problem}" for problem in check.problems]
            lines += [click.style(f"      {note}", dim=True) for note in check.notes]
    bad = sum(len(report.problems) for report in reports)
    lessons = plural(len(reports), "lesson")
    if bad:
        lines.append(click.style(f"{plural(bad, 'problem')} in {lessons}", fg="red", bold=True))
    else:
        lines.append(click.style(f"{lessons} checked, no problems", fg="green", bold=True))
    return "\n".join(lines)


def _validate_mark(ok: bool) -> str:
    return click.style("✓", fg="green") if ok else click.style("✗", fg="red")


def validate_to_json(reports: Sequence[LessonReport]) -> dict[str, Any]:
    """The validate report as plain data for ``quizkit validate --json``."""
    return {
        "ok": all(report.ok for report in reports),
        "lessons": [
            {
                "path": str(report.path),
                "lesson": report.lesson_id,
                "ok": report.ok,
                "checks": [
                    {
                        "name": check.name,
                        "ok": check.ok,
                        "ran": check.ran,
                        "summary": check.summary,
                        "problems": [
                            {"path": p.path, "line": p.line, "column": p.column, "message": p.message}
                            for p in check.problems
                        ],
                        "notes": list(check.notes),
                    }
                    for check in report.checks
                ],
            }
            for report in reports
        ],
    }
