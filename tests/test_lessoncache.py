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
    summary = lessoncache.LessonSummary.from_plain(json.loads(json.dumps(lessoncache.LessonSummary.of(lesson).to_plain())))
    assert (summary.id, summary.title, summary.question_count, summary.exercise_count) == (
        lesson.id,
        lesson.title,
        len(lesson.questions),
        len(lesson.exercises),
    )
    assert summary.max_score == lesson.max_score
    assert [item.id for item in summary.items] == [item.id for item in lesson.items]
