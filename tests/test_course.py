"""Finding the course: --course, then $QUIZKIT_COURSE, then the current folder or a parent, then bundled."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from quizkit.course import Course, bundled_course_root, find_course
from quizkit.errors import CourseError, InputError

REPO = Path(__file__).resolve().parent.parent


def make_course(root: Path, *lesson_ids: str) -> Path:
    """A course whose lessons are minimal valid lesson files."""
    for lesson_id in lesson_ids:
        folder = root / "exercises" / lesson_id
        folder.mkdir(parents=True)
        (folder / "lesson.yaml").write_text(f"id: {lesson_id}\ntitle: Lesson {lesson_id}\n", encoding="utf-8")
    return root


@pytest.fixture
def course_a(tmp_path: Path) -> Path:
    return make_course(tmp_path / "a", "alpha")


@pytest.fixture
def course_b(tmp_path: Path) -> Path:
    return make_course(tmp_path / "b", "beta")


@pytest.fixture
def nowhere(tmp_path: Path) -> Path:
    """A folder with no course in it or above it."""
    path = tmp_path / "empty"
    path.mkdir()
    return path


# --- discovery order --------------------------------------------------------------------------


def test_course_option_beats_environment(course_a: Path, course_b: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIZKIT_COURSE", str(course_a))
    course = find_course(str(course_b))
    assert (course.root, course.source) == (course_b.resolve(), "--course")


def test_environment_beats_current_directory(course_a: Path, course_b: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIZKIT_COURSE", str(course_a))
    course = find_course(None, cwd=course_b)
    assert (course.root, course.source) == (course_a.resolve(), "$QUIZKIT_COURSE")


def test_current_directory_is_searched_upwards(course_b: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUIZKIT_COURSE", raising=False)
    course = find_course(None, cwd=course_b / "exercises" / "beta")
    assert (course.root, course.source) == (course_b.resolve(), "current directory")


def test_current_directory_beats_bundled_course(course_b: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUIZKIT_COURSE", raising=False)
    assert find_course(None, cwd=course_b).root != bundled_course_root()


def test_bundled_course_is_the_last_fallback(nowhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUIZKIT_COURSE", raising=False)
    course = find_course(None, cwd=nowhere)
    assert course.source == "bundled with quizkit"
    assert "lesson3" in course.lesson_ids()


def test_cli_uses_the_current_directory(
    course_b: Path, invoke_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(course_b / "exercises")
    result = invoke_cli("list")
    assert f"Course: {course_b.resolve()} (current directory)" in result.output
    assert "beta" in result.output


def test_cli_uses_the_environment(
    course_a: Path, course_b: Path, invoke_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(course_b)
    monkeypatch.setenv("QUIZKIT_COURSE", str(course_a))
    result = invoke_cli("list")
    assert f"Course: {course_a.resolve()} ($QUIZKIT_COURSE)" in result.output


def test_cli_course_option_beats_environment(
    course_a: Path, course_b: Path, invoke_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUIZKIT_COURSE", str(course_a))
    result = invoke_cli("--course", course_b, "list")
    assert f"Course: {course_b.resolve()} (--course)" in result.output


def test_cli_falls_back_to_the_bundled_course(
    nowhere: Path, invoke_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(nowhere)
    result = invoke_cli("list")
    assert result.exit_code == 0
    assert "(bundled with quizkit)" in result.output
    assert "lesson3" in result.output


def test_course_option_is_accepted_after_the_command(course_b: Path, invoke_cli: Callable[..., Result]) -> None:
    result = invoke_cli("list", "--course", course_b)
    assert result.exit_code == 0
    assert "beta" in result.output


# --- bad courses ------------------------------------------------------------------------------


def test_bad_course_option_raises_course_error(nowhere: Path) -> None:
    with pytest.raises(CourseError, match="--course"):
        find_course(str(nowhere))


def test_bad_course_option_exits_2_with_one_line(nowhere: Path, invoke_cli: Callable[..., Result]) -> None:
    result = invoke_cli("--course", nowhere, "list")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"quizkit: error: --course {nowhere}: no exercises/*/lesson.yaml found there"]


def test_missing_course_folder_exits_2_with_one_line(tmp_path: Path, invoke_cli: Callable[..., Result]) -> None:
    result = invoke_cli("--course", tmp_path / "does-not-exist", "take", "demo")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output


def test_bad_environment_course_exits_2_naming_the_variable(
    nowhere: Path, invoke_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUIZKIT_COURSE", str(nowhere))
    result = invoke_cli("list")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"quizkit: error: QUIZKIT_COURSE={nowhere}: no exercises/*/lesson.yaml found there"
    ]


# --- lessons in a course ----------------------------------------------------------------------


def test_unknown_lesson_lists_the_existing_ones(tmp_path: Path) -> None:
    course = Course(make_course(tmp_path / "c", "lesson1", "lesson2"), "--course")
    with pytest.raises(InputError, match=r"unknown lesson 'lesson9' \(lessons in .*: lesson1, lesson2\)"):
        course.lesson_path("lesson9")


@pytest.mark.parametrize("lesson_id", ["../c/exercises/lesson1", ".", "..", "lesson1/"])
def test_lesson_id_cannot_leave_the_course(tmp_path: Path, lesson_id: str) -> None:
    course = Course(make_course(tmp_path / "c", "lesson1"), "--course")
    with pytest.raises(InputError, match="unknown lesson"):
        course.lesson_path(lesson_id)


def test_lesson_ids_sort_naturally(tmp_path: Path) -> None:
    course = Course(make_course(tmp_path / "c", "lesson10", "lesson2", "intro", "lesson1"), "--course")
    assert course.lesson_ids() == ["intro", "lesson1", "lesson2", "lesson10"]


def test_folder_without_lesson_file_is_not_a_lesson(tmp_path: Path) -> None:
    root = make_course(tmp_path / "c", "lesson1")
    (root / "exercises" / "notes").mkdir()
    assert Course(root, "--course").lesson_ids() == ["lesson1"]


def test_list_shows_lessons_in_natural_order(tmp_path: Path, invoke_cli: Callable[..., Result]) -> None:
    root = make_course(tmp_path / "c", "lesson10", "lesson2")
    output = invoke_cli("--course", root, "list").output
    assert output.index("lesson2") < output.index("lesson10")


def test_course_without_solutions_folder_is_still_a_course(course_dir: Path) -> None:
    shutil.rmtree(course_dir / "solutions")
    assert find_course(str(course_dir)).lesson_ids() == ["demo"]
