"""Learner progress: JSON files in $QUIZKIT_HOME, written atomically, damaged files moved aside."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest

from quizkit.errors import ProgressError
from quizkit.progress import FORMAT_VERSION, ItemRecord, LessonProgress, ProgressStore, default_home


@pytest.fixture
def store(tmp_path: Path) -> ProgressStore:
    return ProgressStore(tmp_path / "home")


def sample_progress() -> LessonProgress:
    progress = LessonProgress("demo", seed=42)
    progress.items["pick-one"] = ItemRecord("correct", 1.0, 1.0, answer="b", hints_used=2, attempts=1, feedback=["ok"])
    progress.items["double"] = ItemRecord("skipped", 0.0, 1.0)
    progress.hints_seen["pick-one"] = 2
    return progress


def valid_document() -> dict[str, object]:
    return sample_progress().to_json()


def damaged(store: ProgressStore, content: str) -> Path:
    path = store.path_for("demo")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def backups(store: ProgressStore) -> list[Path]:
    return sorted(store.path_for("demo").parent.glob("demo.corrupt-*.json"))


def test_saved_progress_loads_back_equal(store: ProgressStore) -> None:
    store.save(sample_progress())
    loaded, warning = store.load("demo")
    assert warning is None
    assert loaded == sample_progress()


def test_progress_file_lives_under_home(store: ProgressStore, tmp_path: Path) -> None:
    store.save(sample_progress())
    assert (tmp_path / "home" / "progress" / "demo.json").is_file()


def test_progress_file_is_versioned_json(store: ProgressStore) -> None:
    store.save(sample_progress())
    data = json.loads(store.path_for("demo").read_text(encoding="utf-8"))
    assert data["version"] == FORMAT_VERSION
    assert data["items"]["pick-one"]["answer"] == "b"


def test_missing_progress_file_means_no_progress(store: ProgressStore) -> None:
    assert store.load("demo") == (None, None)


def test_skipped_item_does_not_count_as_done() -> None:
    progress = sample_progress()
    assert progress.items["pick-one"].done
    assert not progress.items["double"].done


def test_reset_forgets_progress(store: ProgressStore) -> None:
    store.save(sample_progress())
    store.reset("demo")
    assert store.load("demo") == (None, None)


# --- atomic writes ----------------------------------------------------------------------------


def test_failed_write_keeps_the_old_file_intact(store: ProgressStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save(sample_progress())
    before = store.path_for("demo").read_bytes()

    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    changed = sample_progress()
    changed.items["pick-many"] = ItemRecord("correct", 1.0, 1.0)
    with pytest.raises(ProgressError):
        store.save(changed)
    assert store.path_for("demo").read_bytes() == before


def test_failed_write_leaves_no_temporary_files(store: ProgressStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save(sample_progress())

    def crash(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ProgressError):
        store.save(sample_progress())
    assert [p.name for p in store.path_for("demo").parent.iterdir()] == ["demo.json"]


def test_interrupted_write_leaves_no_temporary_files(store: ProgressStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save(sample_progress())

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        store.save(sample_progress())
    assert [p.name for p in store.path_for("demo").parent.iterdir()] == ["demo.json"]
    assert store.load("demo")[0] == sample_progress()


def test_failed_write_is_reported_as_a_progress_error_naming_the_file(
    store: ProgressStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ProgressError, match="No space left on device") as info:
        store.save(sample_progress())
    assert str(store.path_for("demo")) in str(info.value)


# --- damaged files ----------------------------------------------------------------------------


DAMAGED = {
    "truncated JSON": '{"version": 1, "lesson": "demo", "se',
    "not JSON at all": "\x00\x01binary garbage",
    "wrong version": json.dumps({**valid_document(), "version": 99}),
    "not an object": json.dumps([1, 2, 3]),
    "items is a list": json.dumps({**valid_document(), "items": []}),
    "seed is text": json.dumps({**valid_document(), "seed": "42"}),
    "record is a number": json.dumps({**valid_document(), "items": {"pick-one": 3}}),
    "record has an unknown field": json.dumps(
        {**valid_document(), "items": {"pick-one": {"status": "correct", "x": 1}}}
    ),
    "hints_seen value is a list": json.dumps({**valid_document(), "hints_seen": {"pick-one": [1]}}),
}


@pytest.mark.parametrize("content", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_file_means_a_fresh_start_with_a_warning(store: ProgressStore, content: str) -> None:
    damaged(store, content)
    progress, warning = store.load("demo")
    assert progress is None
    assert warning is not None and "damaged" in warning


@pytest.mark.parametrize("content", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_file_is_moved_aside_byte_for_byte(store: ProgressStore, content: str) -> None:
    path = damaged(store, content)
    original = path.read_bytes()
    _, warning = store.load("demo")
    assert not path.exists()
    [backup] = backups(store)
    assert backup.read_bytes() == original
    assert warning is not None and backup.name in warning


def test_fresh_start_after_damage_can_be_saved_and_loaded(store: ProgressStore) -> None:
    damaged(store, "{")
    store.load("demo")
    store.save(sample_progress())
    assert store.load("demo") == (sample_progress(), None)
    assert len(backups(store)) == 1


def test_record_with_a_text_score_is_treated_as_damaged(store: ProgressStore) -> None:
    document = valid_document()
    document["items"] = {"pick-one": {"status": "correct", "score": "1", "max_score": 1}}
    damaged(store, json.dumps(document))
    progress, warning = store.load("demo")
    assert progress is None and warning is not None


def test_two_damaged_files_in_the_same_second_keep_both_backups(
    store: ProgressStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.strftime", lambda *args: "20250101-120000")
    damaged(store, "first damaged file")
    store.load("demo")
    damaged(store, "second damaged file")
    store.load("demo")
    assert sorted(p.read_text(encoding="utf-8") for p in backups(store)) == [
        "first damaged file",
        "second damaged file",
    ]


# --- where progress lives ---------------------------------------------------------------------


def test_quizkit_home_is_respected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIZKIT_HOME", str(tmp_path / "elsewhere"))
    store = ProgressStore.default()
    store.save(sample_progress())
    assert (tmp_path / "elsewhere" / "progress" / "demo.json").is_file()


def test_default_home_is_the_click_app_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUIZKIT_HOME", raising=False)
    assert default_home() == Path(click.get_app_dir("quizkit"))


def test_workspace_is_per_lesson_under_home(store: ProgressStore, tmp_path: Path) -> None:
    assert store.workspace_for("demo") == tmp_path / "home" / "workspace" / "demo"


def test_fresh_progress_uses_the_given_seed(store: ProgressStore) -> None:
    assert store.fresh("demo", seed=5).seed == 5
