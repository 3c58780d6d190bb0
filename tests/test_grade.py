"""`quizkit grade`: a whole class graded in isolation, into a gradebook, feedback files and a resumable state."""

from __future__ import annotations

import csv
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from quizkit.cli import main

LESSON = """\
id: batch
title: Batch grading
exercises:
  - id: clamp
    title: Clamp
    prompt: Zero the entries whose sign flipped.
    points: 2
    parameters: [before, after]
    time_limit: 1
    memory_mb: 256
    cases:
      - name: one flip
        args: {before: [0.5, -0.3, 0.2], after: [-0.1, -0.2, 0.1]}
      - name: starting at zero is not a flip
        args: {before: [0.0, 0.0], after: [0.3, -0.3]}
  - id: double
    title: Double
    prompt: Return 2 * x.
    parameters: [x]
    time_limit: 1
    memory_mb: 256
    cases:
      - name: two
        args: {x: 2.0}
      - name: vector
        args: {x: [1.0, -1.5]}
"""
# The small clamp exercise these tests build their course around.
CLAMP = (Path(__file__).parent / "data" / "clamp_reference.py").read_text(encoding="utf-8")
CLAMP_LESS_EQUAL = CLAMP.replace("< 0", "<= 0")  # also clamps weights that start at zero
CLAMP_UNCHANGED = "import numpy as np\n\ndef clamp(before, after):\n    return np.array(after, dtype=float)\n"
DOUBLE = "import numpy as np\n\ndef double(x):\n    return 2 * np.asarray(x, dtype=float)\n"
DOUBLE_PLUS_TWO = "import numpy as np\n\ndef double(x):\n    return np.asarray(x, dtype=float) + 2\n"
DOUBLE_RAISES = "def double(x):\n    raise ValueError('not yet')\n"
LOOPS_FOREVER = "def clamp(before, after):\n    while True:\n        pass\n"
EXITS_ON_IMPORT = "import sys\nsys.exit(0)\n\ndef double(x):\n    return 2 * x\n"
MEMORY_BOMB = (
    "def clamp(before, after):\n    hoard = []\n    while True:\n        hoard.append(bytearray(50_000_000))\n"
)

# What each kind of learner hands in, and the points it earns: clamp (of 2), double (of 1).
PROFILES: dict[str, dict[str, str]] = {
    "correct": {"clamp": CLAMP, "double": DOUBLE},
    "less_equal": {"clamp": CLAMP_LESS_EQUAL, "double": DOUBLE},
    "buggy": {"clamp": CLAMP_UNCHANGED, "double": DOUBLE_PLUS_TWO},
    "double_only": {"double": DOUBLE},
    "raises": {"clamp": CLAMP, "double": DOUBLE_RAISES},
}
ROTATION = ["correct"] * 5 + ["less_equal", "buggy", "double_only", "flat", "raises"]
HOSTILE = {
    "learner197": ("clamp", LOOPS_FOREVER),
    "learner198": ("double", EXITS_ON_IMPORT),
    "learner199": ("clamp", MEMORY_BOMB),
}


@dataclass(frozen=True)
class Course:
    root: Path
    reference_dir: Path

    def grade(self, directory: Path, out: Path, *extra: str) -> Result:
        args = [
            "--course",
            str(self.root),
            "grade",
            str(directory),
            "--lesson",
            "batch",
            "--out",
            str(out),
            "--jobs",
            "2",
            *extra,
        ]
        return CliRunner().invoke(main, args, catch_exceptions=False)


def make_course(root: Path) -> Course:
    lesson_dir = root / "exercises" / "batch"
    solutions = root / "solutions" / "batch"
    lesson_dir.mkdir(parents=True)
    solutions.mkdir(parents=True)
    (lesson_dir / "lesson.yaml").write_text(LESSON, encoding="utf-8")
    for name, reference in (("clamp", CLAMP), ("double", DOUBLE)):
        (solutions / f"{name}.py").write_text(reference, encoding="utf-8")
        (lesson_dir / f"{name}.py").write_text(f"def {name}(*args):\n    raise NotImplementedError\n", encoding="utf-8")
    return Course(root, solutions)


def make_class(folder: Path, learners: int, *, hostile: bool = True) -> None:
    """``learners`` learners cycling through ROTATION; with ``hostile``, the last three misbehave."""
    folder.mkdir(parents=True)
    for number in range(learners):
        learner = f"learner{number:03d}"
        if hostile and learner in HOSTILE:
            exercise, source = HOSTILE[learner]
            (folder / learner).mkdir()
            (folder / learner / f"{exercise}.py").write_text(source, encoding="utf-8")
            continue
        profile = ROTATION[number % len(ROTATION)]
        if profile == "flat":
            for exercise, source in PROFILES["correct"].items():
                (folder / f"{learner}__{exercise}.py").write_text(source, encoding="utf-8")
            continue
        (folder / learner).mkdir()
        for exercise, source in PROFILES[profile].items():
            (folder / learner / f"{exercise}.py").write_text(source, encoding="utf-8")


def read_gradebook(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, {row[0]: row[1:] for row in rows}


def graded_count(output: str) -> int:
    match = re.search(r"graded (\d+) file\(s\)", output)
    assert match, output
    return int(match.group(1))


@dataclass(frozen=True)
class GradedClass:
    course: Course
    directory: Path
    out: Path
    result: Result


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> GradedClass:
    """200 learners (a few hostile), with two stray files, graded once for the tests that only read."""
    root = tmp_path_factory.mktemp("grade")
    course = make_course(root / "course")
    directory = root / "class"
    make_class(directory, 200)
    (directory / "learner000" / "notes.txt").write_text("my notes", encoding="utf-8")
    (directory / "stray.txt").write_text("?", encoding="utf-8")
    out = root / "out" / "grades.csv"
    return GradedClass(course, directory, out, course.grade(directory, out))


# --- the gradebook and the feedback -----------------------------------------------------------


def test_grading_a_class_succeeds_and_reports_what_it_did(graded_class: GradedClass) -> None:
    assert graded_class.result.exit_code == 0, graded_class.result.output
    assert graded_count(graded_class.result.output) == len(list(graded_class.directory.rglob("*.py")))
    assert "from 200 learner(s)" in graded_class.result.output


def test_the_gradebook_has_a_row_per_learner_sorted_with_a_column_per_exercise(graded_class: GradedClass) -> None:
    header, rows = read_gradebook(graded_class.out)
    assert header == ["learner", "clamp", "double", "total", "max"]
    assert list(rows) == sorted(rows) == [f"learner{n:03d}" for n in range(200)]
    assert all(row[-1] == "3" for row in rows.values())


@pytest.mark.parametrize(
    ("learner", "clamp", "double", "total"),
    [
        ("learner000", "2", "1", "3"),  # correct, one folder per learner
        ("learner005", "1", "1", "2"),  # `<=` clamps weights that start at zero: one case fails
        ("learner006", "1", "0.5", "1.5"),  # buggy in both
        ("learner007", "", "1", "1"),  # did not hand in clamp
        ("learner008", "2", "1", "3"),  # correct, flat learner__exercise.py files
        ("learner009", "2", "0", "2"),  # double raises
        ("learner197", "0", "", "0"),  # infinite loop
        ("learner198", "", "0", "0"),  # sys.exit while being imported
        ("learner199", "0", "", "0"),  # memory bomb
    ],
)
def test_each_learner_gets_the_points_their_files_earn(
    graded_class: GradedClass, learner: str, clamp: str, double: str, total: str
) -> None:
    _, rows = read_gradebook(graded_class.out)
    assert rows[learner] == [clamp, double, total, "3"]


def test_every_learner_gets_a_feedback_file_with_the_json_report_of_each_file(graded_class: GradedClass) -> None:
    feedback = graded_class.out.parent / "feedback"
    assert len(list(feedback.glob("*.json"))) == 200
    document = json.loads((feedback / "learner006.json").read_text(encoding="utf-8"))
    assert (document["learner"], document["lesson"], document["score"], document["max_score"]) == (
        "learner006",
        "batch",
        1.5,
        3.0,
    )
    assert list(document["files"]) == ["clamp", "double"]
    clamp = document["files"]["clamp"]
    assert clamp["format"] == "quizkit-results/1"
    [result] = clamp["results"]
    assert result["exercise"] == "clamp"
    assert [test["status"] for test in result["tests"]] == ["failed", "passed"]


@pytest.mark.parametrize(
    ("learner", "exercise", "run_status"),
    [("learner197", "clamp", "timeout"), ("learner198", "double", "exited"), ("learner199", "clamp", "memory_limit")],
)
def test_hostile_files_fail_with_the_reason_in_their_feedback(
    graded_class: GradedClass, learner: str, exercise: str, run_status: str
) -> None:
    document = json.loads((graded_class.out.parent / "feedback" / f"{learner}.json").read_text(encoding="utf-8"))
    [result] = document["files"][exercise]["results"]
    assert result["run_status"] == run_status
    assert result["run_message"]


def test_files_that_match_no_exercise_are_listed_as_skipped(graded_class: GradedClass) -> None:
    output = graded_class.result.output
    assert re.search(r"warning: skipped .*learner000/notes\.txt: not an exercise of batch", output)
    assert re.search(r"warning: skipped .*stray\.txt: not an exercise of batch", output)


# --- resuming ---------------------------------------------------------------------------------


@pytest.fixture
def small_class(tmp_path: Path) -> tuple[Course, Path, Path]:
    course = make_course(tmp_path / "course")
    directory = tmp_path / "class"
    make_class(directory, 20, hostile=False)
    return course, directory, tmp_path / "out" / "grades.csv"


def test_a_second_run_over_an_unchanged_class_grades_nothing(small_class: tuple[Course, Path, Path]) -> None:
    course, directory, out = small_class
    first = course.grade(directory, out)
    again = course.grade(directory, out)
    assert graded_count(first.output) == 38
    assert graded_count(again.output) == 0
    assert "reused 38 unchanged" in again.output


def test_only_a_changed_file_is_graded_again_and_the_learners_feedback_keeps_the_rest(
    small_class: tuple[Course, Path, Path],
) -> None:
    course, directory, out = small_class
    course.grade(directory, out)
    (directory / "learner000" / "clamp.py").write_text(CLAMP_LESS_EQUAL, encoding="utf-8")
    result = course.grade(directory, out)
    assert graded_count(result.output) == 1
    _, rows = read_gradebook(out)
    assert rows["learner000"] == ["1", "1", "2", "3"]
    document = json.loads((out.parent / "feedback" / "learner000.json").read_text(encoding="utf-8"))
    assert list(document["files"]) == ["clamp", "double"] and document["score"] == 2.0


def test_changing_a_reference_solution_grades_its_exercise_again(small_class: tuple[Course, Path, Path]) -> None:
    course, directory, out = small_class
    course.grade(directory, out)
    clamp_files = len(list(directory.glob("*/clamp.py"))) + len(list(directory.glob("*__clamp.py")))
    with (course.reference_dir / "clamp.py").open("a", encoding="utf-8") as handle:
        handle.write("# reviewed\n")
    assert graded_count(course.grade(directory, out).output) == clamp_files


def test_restart_grades_everything_again(small_class: tuple[Course, Path, Path]) -> None:
    course, directory, out = small_class
    course.grade(directory, out)
    assert graded_count(course.grade(directory, out, "--restart").output) == 38


def test_a_state_line_cut_short_by_a_kill_only_costs_that_learner(small_class: tuple[Course, Path, Path]) -> None:
    course, directory, out = small_class
    course.grade(directory, out)
    state = out.with_name("grades.csv.state.jsonl")
    lines = state.read_text(encoding="utf-8").splitlines(keepends=True)
    last = json.loads(lines[-1])
    state.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2], encoding="utf-8")
    result = course.grade(directory, out)
    assert result.exit_code == 0
    assert graded_count(result.output) == len(last["files"])
    assert graded_count(course.grade(directory, out).output) == 0  # the cut line does not swallow the next one


def test_gradebook_and_feedback_inside_the_class_folder_are_not_taken_for_learners(
    small_class: tuple[Course, Path, Path],
) -> None:
    course, directory, _ = small_class
    out = directory / "grades.csv"
    course.grade(directory, out)
    again = course.grade(directory, out)
    assert graded_count(again.output) == 0
    assert "skipped" not in again.output
    assert "feedback" not in read_gradebook(out)[1]


def test_a_missing_class_folder_is_a_usage_error(small_class: tuple[Course, Path, Path], tmp_path: Path) -> None:
    course, _, out = small_class
    result = course.grade(tmp_path / "nowhere", out)
    assert result.exit_code == 2
    assert "not a directory" in result.output


@contextmanager
def adopting_orphans() -> Iterator[set[int]]:
    """Make this process a child subreaper, so that processes a command leaves behind become our
    children; yields the set, filled on exit, of such processes (reaped again before returning)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_child_subreaper = 36
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        pytest.skip("PR_SET_CHILD_SUBREAPER is not available here")
    before = set(_children())
    left_behind: set[int] = set()
    try:
        yield left_behind
    finally:
        time.sleep(0.2)  # give orphans time to be reparented
        left_behind.update(set(_children()) - before)
        for pid in left_behind:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        libc.prctl(pr_set_child_subreaper, 0, 0, 0, 0)


def _children() -> list[int]:
    me = os.getpid()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == me and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and prctl")
def test_an_interrupted_run_resumes_where_it_stopped_and_leaves_no_process_behind(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    directory = tmp_path / "class"
    make_class(directory, 150, hostile=False)
    out = tmp_path / "out" / "grades.csv"
    state = out.with_name("grades.csv.state.jsonl")
    command = [sys.executable, "-m", "quizkit", "--course", str(course.root), "grade", str(directory)]
    command += ["--lesson", "batch", "--out", str(out), "--jobs", "2"]
    with adopting_orphans() as left_behind:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while (
            not state.exists() or len(state.read_text(encoding="utf-8").splitlines()) <= 20
        ) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command to resume" in stderr
    assert left_behind == set()
    saved_learners = len(state.read_text(encoding="utf-8").splitlines()) - 1
    assert 20 <= saved_learners < 150

    resumed = course.grade(directory, out)
    total = len(list(directory.rglob("*.py")))
    assert graded_count(resumed.output) < total - 20
    assert re.search(rf"reused {total - graded_count(resumed.output)} unchanged", resumed.output)
    _, rows = read_gradebook(out)
    assert len(rows) == 150
    assert rows["learner000"] == ["2", "1", "3", "3"] and rows["learner146"] == ["1", "0.5", "1.5", "3"]
