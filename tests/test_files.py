"""quizkit.files: replacing a file atomically, under any name a crashed writer may have left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from quizkit import files
from quizkit.files import TEMP_SUFFIX, atomic_write_bytes, temp_prefix


def test_a_file_is_written_into_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "feedback.json"
    atomic_write_bytes(target, b"{}", durable=False)
    assert target.read_bytes() == b"{}"
    assert os.listdir(target.parent) == ["feedback.json"]


@pytest.mark.parametrize("durable", [True, False])
def test_a_file_is_replaced_whole_and_no_temporary_file_stays(tmp_path: Path, durable: bool) -> None:
    target = tmp_path / "grades.csv"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new", durable=durable)
    assert target.read_bytes() == b"new" and os.listdir(tmp_path) == ["grades.csv"]


def test_temporary_files_left_by_a_killed_writer_are_neither_reused_nor_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    # What a writer that had this process's pid left behind: the names the next writes try first.
    start = next(files._temp_numbers) + 1
    leftovers = {tmp_path / f"{temp_prefix(target)}{os.getpid()}.{n}{TEMP_SUFFIX}" for n in range(start, start + 200)}
    for leftover in leftovers:
        leftover.write_bytes(b"half")
    for round_ in range(3):
        atomic_write_bytes(target, f"whole {round_}".encode(), durable=False)
    assert target.read_bytes() == b"whole 2"
    assert {path for path in tmp_path.iterdir() if path != target} == leftovers
    assert all(path.read_bytes() == b"half" for path in leftovers)
