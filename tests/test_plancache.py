"""The plan cache: a plan computed once is reused by the next command, and never trusted blindly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quizkit import exercises, plancache
from quizkit.lesson import load_lesson

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QUIZKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(exercises, "_PLAN_MEMO", {})  # each plan below is a new command's
    return tmp_path / "home"


def soft_threshold(tmp_path: Path, reference: str | None = None):  # type: ignore[no-untyped-def]
    solutions = REPO / "solutions" / "lesson3"
    if reference is not None:
        solutions = tmp_path / "solutions"
        solutions.mkdir(exist_ok=True)
        for path in (REPO / "solutions" / "lesson3").glob("*.py"):
            (solutions / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        (solutions / "soft_threshold.py").write_text(reference, encoding="utf-8")
    lesson = load_lesson(REPO / "exercises" / "lesson3" / "lesson.yaml", solutions)
    return lesson.exercise("soft_threshold")


def same_plan(a, b) -> bool:  # type: ignore[no-untyped-def]
    def same(x: object, y: object) -> bool:
        if isinstance(x, np.ndarray):
            return (
                isinstance(y, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
            )
        return type(x) is type(y) and x == y

    return (
        [(c.name, c.group, c.hidden) for c in a.calls] == [(c.name, c.group, c.hidden) for c in b.calls]
        and all(
            same(x, y) for ca, cb in zip(a.calls, b.calls, strict=False) for x, y in zip(ca.args, cb.args, strict=False)
        )
        and a.groups == b.groups
        and all(same(x, y) for x, y in zip(a.expected, b.expected, strict=False))
    )


def test_a_second_command_reuses_the_plan_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = exercises.plan_exercise(soft_threshold(tmp_path))
    monkeypatch.setattr(exercises, "_PLAN_MEMO", {})
    monkeypatch.setattr(exercises, "build_calls", lambda *a, **k: pytest.fail("the plan was computed again"))
    second = exercises.plan_exercise(soft_threshold(tmp_path))
    assert same_plan(first, second)


def test_a_changed_reference_makes_a_new_plan(tmp_path: Path) -> None:
    exercises.plan_exercise(soft_threshold(tmp_path))
    wrong = "import numpy as np\n\ndef soft_threshold(w, threshold):\n    return np.asarray(w, dtype=float) * 0.0\n"
    plan = exercises.plan_exercise(soft_threshold(tmp_path, wrong))
    assert all(not value.any() for value in plan.expected)


def test_a_tampered_plan_is_ignored_and_computed_again(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = exercises.plan_exercise(soft_threshold(tmp_path))
    [entry] = (home / "cache" / "plans").glob("*.json")
    mac, _, body = entry.read_text(encoding="utf-8").partition("\n")
    forged = body.replace('"expected":[{"dtype":"<f8"', '"expected":[{"dtype":"<f4"', 1)
    assert forged != body
    entry.write_text(mac + "\n" + forged, encoding="utf-8")
    monkeypatch.setattr(exercises, "_PLAN_MEMO", {})
    second = exercises.plan_exercise(soft_threshold(tmp_path))
    assert same_plan(first, second)


def test_a_grade_seed_has_its_own_plan(tmp_path: Path) -> None:
    exercise = soft_threshold(tmp_path)
    reference = exercise.reference.read_bytes()
    assert plancache.digest(exercise, reference, (), None) != plancache.digest(exercise, reference, (), 7)
