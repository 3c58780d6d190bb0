"""The lesson caches: used when authentic and current, ignored otherwise, never trusted blindly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from quizkit import lessoncache, rawyaml

REPO = Path(__file__).resolve().parent.parent
LESSON = REPO / "exercises" / "lesson3" / "lesson.yaml"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("QUIZKIT_HOME", str(home))
    return home


def entries(home: Path, kind: str) -> list[Path]:
    return sorted((home / "cache" / kind).glob("*.json"))


def test_a_composed_lesson_is_kept_and_read_back_identically(home: Path) -> None:
    text = LESSON.read_text(encoding="utf-8")
    first, problems = rawyaml.load(text, "lesson.yaml")
    assert problems == [] and len(entries(home, "lessons")) == 1
    second, _ = rawyaml.load(text, "lesson.yaml")
    assert second == first


def test_a_tampered_entry_is_not_believed(home: Path) -> None:
    text = "id: x\ntitle: Original\n"
    rawyaml.load(text, "x.yaml")
    [entry] = entries(home, "lessons")
    mac, _, body = entry.read_text(encoding="utf-8").partition("\n")
    entry.write_text(mac + "\n" + body.replace("Original", "Forged"), encoding="utf-8")

    assert lessoncache.load(text) is None
    root, _ = rawyaml.load(text, "x.yaml")
    assert root is not None and root.value["title"].value == "Original"  # type: ignore[index, union-attr]


def test_an_entry_signed_with_another_key_is_not_believed(home: Path) -> None:
    text = "id: x\ntitle: X\n"
    rawyaml.load(text, "x.yaml")
    (home / "grading.key").write_bytes(os.urandom(32))
    assert lessoncache.load(text) is None


def test_a_file_with_problems_is_not_cached(home: Path) -> None:
    rawyaml.load("id: x\nid: y\n", "x.yaml")  # duplicate key
    assert entries(home, "lessons") == []


def test_list_reads_a_lesson_once_and_then_neither_yaml_nor_the_lesson_model(tmp_path: Path, home: Path) -> None:
    script = (
        "import sys\n"
        "from quizkit.cli import main\n"
        "try:\n"
        f"    main(['--course', {str(REPO)!r}, 'list'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('yaml', 'quizkit.lesson') if m in sys.modules))\n"
    )
    env = {**os.environ, "QUIZKIT_HOME": str(home)}
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True) for _ in range(2)]
    assert runs[0].stdout.splitlines()[-1] == "['quizkit.lesson', 'yaml']"
    assert runs[1].stdout.splitlines()[-1] == "[]"
    assert runs[0].stdout.splitlines()[:-1] == runs[1].stdout.splitlines()[:-1]


def test_a_changed_lesson_is_summarised_again(tmp_path: Path, home: Path) -> None:
    course = tmp_path / "course"
    lesson_dir = course / "exercises" / "demo"
    lesson_dir.mkdir(parents=True)
    (course / "solutions" / "demo").mkdir(parents=True)
    path = lesson_dir / "lesson.yaml"
    path.write_text("id: demo\ntitle: First title\nquestions: []\n", encoding="utf-8")
    solutions = course / "solutions" / "demo"
    from quizkit.lesson import read_lesson

    lesson, problems = read_lesson(path, solutions)
    assert lesson is not None, problems
    lessoncache.store_summary(path, solutions, lesson)
    assert lessoncache.load_summary(path, solutions).title == "First title"  # type: ignore[union-attr]

    path.write_text("id: demo\ntitle: Second title\nquestions: []\n", encoding="utf-8")
    assert lessoncache.load_summary(path, solutions) is None


def test_a_summary_holds_what_list_shows(home: Path) -> None:
    from quizkit.lesson import load_lesson

    lesson = load_lesson(LESSON, REPO / "solutions" / "lesson3")
    summary = lessoncache.LessonSummary.from_plain(
        json.loads(json.dumps(lessoncache.LessonSummary.of(lesson).to_plain()))
    )
    assert (summary.id, summary.title, summary.question_count, summary.exercise_count) == (
        lesson.id,
        lesson.title,
        len(lesson.questions),
        len(lesson.exercises),
    )
    assert summary.max_score == lesson.max_score
    assert [item.id for item in summary.items] == [item.id for item in lesson.items]


# --- built lessons ---------------------------------------------------------------------------------


def copy_course(tmp_path: Path) -> Path:
    """A private copy of lesson 3 and its solutions; returns the lesson file."""
    import shutil

    shutil.copytree(REPO / "exercises" / "lesson3", tmp_path / "course" / "exercises" / "lesson3")
    shutil.copytree(REPO / "solutions" / "lesson3", tmp_path / "course" / "solutions" / "lesson3")
    return tmp_path / "course" / "exercises" / "lesson3" / "lesson.yaml"


def test_a_built_lesson_is_kept_and_read_back_as_the_same_model(home: Path) -> None:
    from quizkit.lesson import load_lesson

    first = load_lesson(LESSON, formulas=False)
    assert len(entries(home, "models")) == 1
    second = load_lesson(LESSON, formulas=False)
    assert second is not first
    assert repr(second) == repr(first)


def test_validate_always_builds_the_lesson_with_its_position_map(home: Path) -> None:
    from quizkit.lesson import load_lesson

    load_lesson(LESSON, formulas=False)
    lesson = load_lesson(LESSON)  # formulas read, as validate does
    assert lesson.positions is not None
    assert len(entries(home, "models")) == 1


def test_a_kept_lesson_skips_yaml_and_the_schema(home: Path) -> None:
    from quizkit.lesson import load_lesson

    load_lesson(LESSON, formulas=False)
    code = (
        "import sys\nfrom pathlib import Path\nfrom quizkit import lesson\n"
        f"print(len(lesson.load_lesson(Path({str(LESSON)!r}), formulas=False).questions))\n"
        "print(sorted({'yaml', 'quizkit.rawyaml', 'quizkit.schema', 'quizkit.lesson_builder'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "QUIZKIT_HOME": str(home)}
    )
    assert done.returncode == 0, done.stderr
    count, imported = done.stdout.splitlines()
    assert int(count) > 10
    assert imported == "[]"


def test_a_changed_lesson_is_built_again(tmp_path: Path, home: Path) -> None:
    from quizkit.lesson import load_lesson

    lesson_file = copy_course(tmp_path)
    load_lesson(lesson_file, formulas=False)
    text = lesson_file.read_text(encoding="utf-8")
    lesson_file.write_text(
        text.replace("title: L1 regularization (Lasso)", "title: Changed title", 1), encoding="utf-8"
    )
    assert load_lesson(lesson_file, formulas=False).title == "Changed title"


def test_a_kept_lesson_is_built_again_when_a_solution_file_changes(tmp_path: Path, home: Path) -> None:
    from quizkit.lesson import load_lesson

    lesson_file = copy_course(tmp_path)
    load_lesson(lesson_file, formulas=False)
    load_lesson(lesson_file, formulas=False)
    assert len(entries(home, "models")) == 1
    (tmp_path / "course" / "solutions" / "lesson3" / "soft_threshold.py").write_text("# changed\n", encoding="utf-8")
    load_lesson(lesson_file, formulas=False)
    assert len(entries(home, "models")) == 2


def test_a_tampered_model_is_not_believed(tmp_path: Path, home: Path) -> None:
    from quizkit.lesson import load_lesson

    lesson_file = copy_course(tmp_path)
    load_lesson(lesson_file, formulas=False)
    [entry] = entries(home, "models")
    mac, _, body = entry.read_text(encoding="utf-8").partition("\n")
    entry.write_text(mac + "\n" + body.replace("L1 regularization (Lasso)", "Forged"), encoding="utf-8")
    assert load_lesson(lesson_file, formulas=False).title == "L1 regularization (Lasso)"


def test_a_model_entry_names_only_model_classes() -> None:
    classes = lessoncache._model_classes()
    assert "Lesson" in classes and "Path" not in classes and "Checker" not in classes
    with pytest.raises(KeyError):
        lessoncache._decode({"c": "PosixPath", "v": {}}, classes)


# --- a bounded cache ---------------------------------------------------------------------------------


def test_the_cache_keeps_a_bounded_number_of_entries_per_kind(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(lessoncache.MAX_ENTRIES, "lessons", 3)
    for number in range(6):
        rawyaml.load(f"id: x{number}\ntitle: T\n", "x.yaml")
    assert len(entries(home, "lessons")) == 3


def test_pruning_removes_the_least_recently_used_entries(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(lessoncache.MAX_ENTRIES, "lessons", 2)
    texts = [f"id: x{number}\ntitle: T\n" for number in range(3)]
    rawyaml.load(texts[0], "x.yaml")
    rawyaml.load(texts[1], "x.yaml")
    for path, age in zip(entries(home, "lessons"), (100, 200), strict=True):
        os.utime(path, (path.stat().st_atime - age, path.stat().st_mtime - age))  # both written long ago
    assert lessoncache.load(texts[0]) is not None  # the first is used again now
    rawyaml.load(texts[2], "x.yaml")  # one too many: the second, unused since it was written, goes
    assert lessoncache.load(texts[0]) is not None
    assert lessoncache.load(texts[2]) is not None
    assert lessoncache.load(texts[1]) is None
