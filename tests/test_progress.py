"""Learner progress: JSON files in $QUIZKIT_HOME, written atomically, damaged files moved aside."""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from pathlib import Path

import click
import pytest

from quizkit.errors import ProgressError
from quizkit.progress import (
    FORMAT_VERSION,
    MAX_PROGRESS_BYTES,
    ItemRecord,
    ItemState,
    LessonBusyError,
    LessonProgress,
    ProgressStore,
    default_home,
    install_starter,
)


@pytest.fixture
def store(tmp_path: Path) -> ProgressStore:
    return ProgressStore(tmp_path / "home")


def sample_progress() -> LessonProgress:
    progress = LessonProgress("demo", seed=42)
    progress.items["pick-one"] = ItemRecord(
        ItemState.CORRECT, 1.0, 1.0, answer="b", hints_used=2, attempts=1, feedback=["ok"]
    )
    progress.items["double"] = ItemRecord(ItemState.SKIPPED, 0.0, 1.0)
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


def test_item_states_are_saved_as_the_words_progress_files_have_always_held(store: ProgressStore) -> None:
    progress = sample_progress()
    for state in ItemState:
        progress.items[f"item-{state.name}"] = ItemRecord(state, 0.0, 1.0)
    store.save(progress)
    items = json.loads(store.path_for("demo").read_text(encoding="utf-8"))["items"]
    saved = {key: record["status"] for key, record in items.items() if key.startswith("item-")}
    words = ["correct", "partial", "incorrect", "trying", "skipped", "read"]
    assert sorted(saved.values()) == sorted(words)


def test_a_saved_state_loads_back_as_the_enum(store: ProgressStore) -> None:
    store.save(sample_progress())
    loaded, _ = store.load("demo")
    assert loaded is not None
    assert loaded.items["double"].status is ItemState.SKIPPED


def test_a_record_with_an_unknown_status_is_damage(store: ProgressStore) -> None:
    document = valid_document()
    document["items"]["double"]["status"] = "halfway"  # type: ignore[index]
    damaged(store, json.dumps(document))
    progress, warning = store.load("demo")
    assert progress is None and warning is not None
    assert len(backups(store)) == 1


def test_missing_progress_file_means_no_progress(store: ProgressStore) -> None:
    assert store.load("demo") == (None, None)


def test_skipped_item_does_not_count_as_done() -> None:
    progress = sample_progress()
    assert progress.items["pick-one"].done
    assert not progress.items["double"].done


def test_a_partly_graded_exercise_is_not_done_but_a_partly_right_question_is() -> None:
    from quizkit.lessoncache import LessonSummary, SummaryItem

    items = [SummaryItem("pick-many", 1.0), SummaryItem("double", 2.0)]
    summary = LessonSummary("demo", "Demo", 1, 1, 0, items, frozenset({"double"}))
    progress = LessonProgress("demo", seed=1)
    progress.items["pick-many"] = ItemRecord(ItemState.PARTIAL, 0.5, 1.0)
    progress.items["double"] = ItemRecord(ItemState.PARTIAL, 1.0, 2.0)
    assert progress.is_done("pick-many", 1.0, exercise=False)
    assert not progress.is_done("double", 2.0, exercise=True)
    assert progress.done_count(summary) == 1


def test_list_counts_done_items_as_take_does(store: ProgressStore) -> None:
    from quizkit.lesson import load_lesson

    lesson = load_lesson(Path(__file__).parent / "data" / "course" / "exercises" / "demo" / "lesson.yaml")
    progress = LessonProgress("demo", seed=1)
    progress.items["double"] = ItemRecord(ItemState.PARTIAL, 0.5, 1.0)
    store.save(progress)
    assert store.peek(lesson).startswith(f"0/{len(lesson.items)} done")


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
    changed.items["pick-many"] = ItemRecord(ItemState.CORRECT, 1.0, 1.0)
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


# --- hostile files in place of the progress file ---------------------------------------------


def test_non_utf8_bytes_are_moved_aside_with_a_warning(store: ProgressStore) -> None:
    path = store.path_for("demo")
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"version": 1, "lesson": "\xff\xfe"}')
    progress, warning = store.load("demo")
    assert progress is None
    assert warning is not None and "not UTF-8" in warning
    assert len(backups(store)) == 1


def test_json_nested_100000_deep_is_moved_aside_without_recursing(store: ProgressStore) -> None:
    damaged(store, "[" * 100_000 + "]" * 100_000)
    progress, warning = store.load("demo")
    assert progress is None
    assert warning is not None and "nested more than" in warning


def test_brackets_inside_strings_do_not_count_as_nesting(store: ProgressStore) -> None:
    progress = sample_progress()
    progress.items["pick-one"].answer = "[[[[" * 50 + '"{{'
    store.save(progress)
    assert store.load("demo") == (progress, None)


def release_readers_of(path: Path, seconds: float = 5.0) -> threading.Thread:
    """A thread that opens and closes ``path`` for writing: a reader blocked on the FIFO gets EOF."""

    def run() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError as exc:  # ENXIO: no reader yet; ENOENT: moved aside, nothing to release
                if exc.errno != errno.ENXIO:
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_fifo_in_place_of_the_progress_file_is_moved_aside_without_blocking(store: ProgressStore) -> None:
    path = store.path_for("demo")
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    release_readers_of(path)  # so that a reader that does block fails this test instead of hanging
    progress, warning = store.load("demo")
    assert progress is None
    assert warning is not None and "FIFO" in warning
    assert not path.exists()


def test_symlink_to_dev_zero_is_moved_aside_without_being_read(store: ProgressStore) -> None:
    path = store.path_for("demo")
    path.parent.mkdir(parents=True)
    path.symlink_to("/dev/zero")
    progress, warning = store.load("demo")
    assert progress is None
    assert warning is not None and "symbolic link" in warning
    [backup] = backups(store)
    assert backup.is_symlink()


def test_symlink_to_a_valid_progress_file_is_not_followed(store: ProgressStore, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps(valid_document()), encoding="utf-8")
    path = store.path_for("demo")
    path.parent.mkdir(parents=True)
    path.symlink_to(elsewhere)
    assert store.load("demo")[0] is None
    assert elsewhere.is_file()


def test_directory_in_place_of_the_progress_file_is_moved_aside(store: ProgressStore) -> None:
    store.path_for("demo").mkdir(parents=True)
    progress, warning = store.load("demo")
    assert progress is None
    assert warning is not None and "directory" in warning


def test_file_over_the_size_cap_is_moved_aside(store: ProgressStore) -> None:
    damaged(store, " " * (MAX_PROGRESS_BYTES + 1))
    progress, warning = store.load("demo")
    assert progress is None
    assert warning is not None and "larger than" in warning


def test_huge_hint_count_is_treated_as_damaged(store: ProgressStore) -> None:
    damaged(
        store,
        json.dumps(valid_document()).replace('"hints_seen": {"pick-one": 2}', '"hints_seen": {"pick-one": 1e999}'),
    )
    progress, warning = store.load("demo")
    assert progress is None and warning is not None


@pytest.mark.parametrize("content", ["[" * 100_000, b"\xff\xfe\x00garbage"], ids=["deep", "binary"])
def test_peek_moves_a_hostile_file_aside_and_says_so(store: ProgressStore, content: str | bytes) -> None:
    from quizkit.lesson import load_lesson

    lesson = load_lesson(Path(__file__).resolve().parent / "data" / "course" / "exercises" / "demo" / "lesson.yaml")
    path = store.path_for("demo")
    path.parent.mkdir(parents=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    summary = store.peek(lesson)
    assert summary.startswith("not started; warning: progress file") and "was damaged" in summary
    [backup] = backups(store)
    assert backup.name in summary and not path.exists()


def test_peek_leaves_a_damaged_file_to_the_session_that_has_the_lesson_open(store: ProgressStore) -> None:
    from quizkit.lesson import load_lesson

    lesson = load_lesson(Path(__file__).resolve().parent / "data" / "course" / "exercises" / "demo" / "lesson.yaml")
    path = damaged(store, "{")
    with store.lock("demo"):
        assert store.peek(lesson).endswith("a take session has the lesson open")
    assert path.exists()


# --- durable writes and the lesson lock -------------------------------------------------------


def test_save_fsyncs_the_file_and_then_its_directory(store: ProgressStore, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[bool] = []
    real_fsync = os.fsync

    def record(fd: int) -> None:
        synced.append(os.path.isdir(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", record)
    store.save(sample_progress())
    assert synced == [False, True]


def test_a_second_lock_on_the_same_lesson_is_refused(store: ProgressStore) -> None:
    with store.lock("demo"), pytest.raises(LessonBusyError, match="open in another"), store.lock("demo"):
        pass


def test_the_lock_is_released_when_the_session_ends(store: ProgressStore) -> None:
    with store.lock("demo"):
        pass
    with store.lock("demo"):
        pass


def test_locks_of_different_lessons_are_independent(store: ProgressStore) -> None:
    with store.lock("demo"), store.lock("other"):
        pass


def test_taking_the_lock_removes_temporary_files_of_a_killed_writer(store: ProgressStore) -> None:
    store.save(sample_progress())
    folder = store.path_for("demo").parent
    (folder / ".demo.json.k1l_3d.tmp").write_text("{half", encoding="utf-8")
    (folder / ".other.json.abc.tmp").write_text("{half", encoding="utf-8")
    with store.lock("demo"):
        names = sorted(p.name for p in folder.iterdir())
    assert ".demo.json.k1l_3d.tmp" not in names
    assert ".other.json.abc.tmp" in names and "demo.json" in names


# --- starter files ----------------------------------------------------------------------------


def test_starter_is_copied_when_missing(tmp_path: Path) -> None:
    starter = tmp_path / "starter.py"
    starter.write_text("def f():\n    pass\n", encoding="utf-8")
    target = tmp_path / "ws" / "starter.py"
    install_starter(starter, target)
    assert target.read_text(encoding="utf-8") == "def f():\n    pass\n"


def test_empty_workspace_starter_is_repaired(tmp_path: Path) -> None:
    starter = tmp_path / "starter.py"
    starter.write_text("def f():\n    pass\n", encoding="utf-8")
    target = tmp_path / "ws" / "starter.py"
    target.parent.mkdir()
    target.write_bytes(b"")
    install_starter(starter, target)
    assert target.read_text(encoding="utf-8") == "def f():\n    pass\n"


def test_full_disk_while_copying_the_starter_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    starter = tmp_path / "starter.py"
    starter.write_text("def f():\n    pass\n", encoding="utf-8")
    target = tmp_path / "ws" / "starter.py"

    def disk_full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("quizkit.files.write_all", disk_full)
    with pytest.raises(ProgressError, match=r"cannot copy the starter file .* the disk is full"):
        install_starter(starter, target)
    assert list(target.parent.iterdir()) == []
